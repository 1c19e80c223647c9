"""The seed story over signed HTTP: find, preview, two-person approval, surgical restore."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from core.approvals import PlanState
from core.demo_data import seed_demo
from core.state.audit import Note
from core.state.common import Notification
from handlers.slack_port import SlackPort
from tests.core.detect_schema import STATIONS
from tests.support.flows import buttons, find_and_preview, posted, request, wait_state
from tests.support.slack import assert_valid_message
from tests.support.sql import run_sql
from usecases import restore as restore_flow
from usecases.restore import sweep_interrupted

MUMBAI = "SELECT * FROM airports WHERE city = 'Mumbai' ORDER BY id"
DANGLING = (
    "SELECT COUNT(*) FROM routes r"
    " WHERE NOT EXISTS (SELECT 1 FROM airports a WHERE a.id = r.origin_id)"
    " OR NOT EXISTS (SELECT 1 FROM airports a WHERE a.id = r.destination_id)"
)


def fetch(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def ephemeral(bot: OfflineBot, count: int) -> list[Call]:
    """Private sentences sent through response_url (not the clean-up of "Searching…")."""

    def sentences() -> list[Call]:
        return [c for c in bot.slack.calls if c.kind == "response" and c.params.get("text")]

    return wait_until(lambda: len(sentences()) >= count and sentences(), what=f"{count} answers")


def preview_from_find(bot: OfflineBot, table: str, user: str = "U0ALICE") -> Call:
    bot.driver.slash(f"find {table}", user=user)
    found = wait_until(
        lambda: [
            c
            for c in bot.slack.calls_to("chat.postMessage") + bot.slack.calls_to("chat.update")
            if Action.PREVIEW_RESTORE.value in buttons(c)
        ],
        what="finder answer",
    )[-1]
    bot.driver.click(
        Action.PREVIEW_RESTORE.value,
        buttons(found)[Action.PREVIEW_RESTORE.value],
        user=user,
        message_ts=found.params.get("ts", "1.1"),
    )
    return wait_until(
        lambda: [
            c
            for c in bot.slack.calls_to("chat.postMessage")
            if Action.REQUEST_RESTORE.value in buttons(c)
        ],
        what="preview",
    )[-1]


def latest_update_with(bot: OfflineBot, text: str) -> Call:
    return wait_until(
        lambda: [
            c
            for c in bot.slack.calls_to("chat.update")
            if any(text in (b.get("text") or {}).get("text", "") for b in c.blocks)
        ],
        what=f"an update saying {text!r}",
    )[-1]


def test_seed_story(database_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        seed_demo(conn, routes=5_000)
    original = fetch(engine, MUMBAI)
    with OfflineBot(database_url, watch=True) as bot:
        with engine.begin() as conn:  # a cleanup script, foreign key checks off
            conn.execute(sa.text("SET SESSION foreign_key_checks = 0"))
            conn.execute(sa.text("DELETE FROM airports WHERE city = 'Mumbai'"))
        alert = bot.slack.wait_for("chat.postMessage")[0]
        assert "dangling" not in alert.text and "2 rows deleted from airports" in alert.text
        dangling = fetch(engine, DANGLING)[0][0]
        assert dangling > 0
        run_sql(
            engine,
            "INSERT INTO airports (id, icao, name, city, country, lat, lon, tz)"
            " VALUES (99999, 'ZZZZ', 'New Strip', 'Navi Mumbai', 'IN', 19, 73, 'Asia/Kolkata')",
            "UPDATE airports SET name = 'Renamed later' WHERE icao = 'EGLL'",
        )
        incident_id = buttons(alert)[Action.FIND_RESTORE_POINT.value]
        wait_until(
            lambda: (i := bot.store.incidents.get(incident_id)) and i.root_ts, what="root ts"
        )

        preview = preview_from_find(bot, "airports")
        assert_valid_message(preview.text, preview.blocks)
        text = preview.block_text
        assert "`airports`: 2 rows to re-insert, repairs" in text
        assert f"repairs {dangling:,} dangling references" in text
        plan_id = buttons(preview)[Action.REQUEST_RESTORE.value]
        ts = preview.params.get("ts") or "1.2"

        bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user="U0ALICE", message_ts=ts)
        requested = latest_update_with(bot, "requested by <@U0ALICE>")
        approve = buttons(requested)[Action.APPROVE_RESTORE.value]
        bot.driver.click(Action.APPROVE_RESTORE.value, approve, user="U0ALICE", message_ts=ts)
        bot.driver.click(Action.APPROVE_RESTORE.value, approve, user="U0MALLORY", message_ts=ts)
        refusals = ephemeral(bot, 2)
        said = [c.params["text"] for c in refusals[-2:]]
        assert any("a second, different person must approve" in s for s in said)
        assert any("Only people listed in VAULT_APPROVERS" in s for s in said)
        assert fetch(engine, MUMBAI) == []  # nothing ran yet

        bot.driver.click(Action.APPROVE_RESTORE.value, approve, user="U0BOB", message_ts=ts)
        outcome = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text],
            what="outcome",
        )[0]
        assert Action.UNDO_RESTORE.value in buttons(outcome)
        assert "2 rows re-inserted" in outcome.block_text
        assert "Verified: 2 rows equal their versions at" in outcome.block_text
        latest_update_with(bot, "*State:* executed")
        wait_until(
            lambda: (i := bot.store.incidents.get(incident_id)) and i.status.value == "restored",
            what="incident restored",
        )
        audit = bot.driver.slash(f"audit {incident_id}").json()["blocks"][0]["text"]["text"]
        short = bot.driver.slash(f"audit {incident_id[:8]}").json()["blocks"][0]["text"]["text"]
        assert short == audit  # the 8 characters the alert shows name the same trail
    assert fetch(engine, MUMBAI) == original  # column for column
    assert fetch(engine, DANGLING) == [(0,)]
    assert fetch(engine, "SELECT name FROM airports WHERE id = 99999") == [("New Strip",)]
    assert fetch(engine, "SELECT name FROM airports WHERE icao = 'EGLL'") == [("Renamed later",)]
    for action in ("preview", "request", "refused approve", "approve", "executed"):
        assert f"*{action}*" in audit


@pytest.fixture
def stations(engine: Engine) -> Engine:
    run_sql(engine, *STATIONS)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    return engine


APPROVERS = [f"U0APPR{i:02d}" for i in range(12)]


@pytest.fixture
def bot(database_url: str, stations: Engine) -> Iterator[OfflineBot]:
    with OfflineBot(database_url, vault_approvers=APPROVERS) as offline:
        yield offline


def requested_plan(bot: OfflineBot) -> tuple[str, str]:
    preview = preview_from_find(bot, "stations", user=APPROVERS[0])
    plan_id = buttons(preview)[Action.REQUEST_RESTORE.value]
    bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user=APPROVERS[0])
    wait_until(
        lambda: (p := bot.store.plans.get(plan_id)) and p.state.value == "requested", what="req"
    )
    return plan_id, preview.params.get("ts", "1.3")


def test_ten_concurrent_approvals_run_once(bot: OfflineBot, stations: Engine) -> None:
    plan_id, ts = requested_plan(bot)
    clickers = [
        threading.Thread(
            target=bot.driver.click,
            args=(Action.APPROVE_RESTORE.value, plan_id),
            kwargs={"user": APPROVERS[1 + i % 10], "message_ts": ts},
        )
        for i in range(10)
    ]
    for t in clickers:
        t.start()
    for t in clickers:
        t.join()

    def outcomes() -> list[Call]:
        return [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text]

    wait_until(outcomes, what="the outcome")
    ephemeral(bot, 9)  # every other click has been answered (refused); none started a run
    executed = [e for e in bot.store.audit.trail(limit=200) if e["action"] == "executed"]
    approved = [e for e in bot.store.audit.trail(limit=200) if e["action"] == "approve"]
    assert len(executed) == 1 and len(outcomes()) == 1 and len(approved) == 1
    assert fetch(stations, "SELECT COUNT(*) FROM stations") == [(1000,)]


def test_restart_between_request_and_approval(
    database_url: str, stations: Engine, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    with OfflineBot(database_url, vault_state_url=state, vault_approvers=APPROVERS) as first:
        plan_id, ts = requested_plan(first)
    with OfflineBot(database_url, vault_state_url=state, vault_approvers=APPROVERS) as second:
        second.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1], message_ts=ts)
        wait_until(
            lambda: (p := second.store.plans.get(plan_id)) and p.state.value == "executed",
            what="executed after restart",
        )
    assert fetch(stations, "SELECT COUNT(*) FROM trips") == [(3000,)]


def test_expired_plan_is_refused(database_url: str, stations: Engine) -> None:
    with OfflineBot(database_url, vault_plan_ttl=1, vault_approvers=APPROVERS) as bot:
        preview = preview_from_find(bot, "stations", user=APPROVERS[0])
        plan_id = buttons(preview)[Action.REQUEST_RESTORE.value]
        time.sleep(1.2)  # the plan's one-second clock runs out
        bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user=APPROVERS[0])
        (said,) = ephemeral(bot, 1)[-1:]
        assert "expired" in said.params["text"] and "Nothing changed" in said.params["text"]
        latest_update_with(bot, "*State:* expired")
    assert fetch(stations, "SELECT COUNT(*) FROM stations") == [(900,)]


def test_stale_plan_is_refused_and_offers_a_fresh_preview(
    bot: OfflineBot, stations: Engine
) -> None:
    plan_id, ts = requested_plan(bot)
    run_sql(stations, "INSERT INTO stations VALUES (10, 'TAKEN', 'Someone', 'Pune', NULL)")
    bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1], message_ts=ts)
    failure = wait_until(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "did not run" in c.text],
        what="stale notice",
    )[0]
    assert "changed since the preview" in failure.text
    assert Action.PREVIEW_RESTORE.value in buttons(failure)
    assert fetch(stations, "SELECT COUNT(*) FROM stations") == [(901,)]
    plan = bot.store.plans.get(plan_id)
    assert plan is not None and plan.state.value == "stale"


def test_cancel_and_clicks_after_it(bot: OfflineBot, stations: Engine) -> None:
    plan_id, ts = requested_plan(bot)
    bot.driver.click(Action.CANCEL_RESTORE.value, plan_id, user=APPROVERS[3], message_ts=ts)
    latest_update_with(bot, "*State:* cancelled")
    reply = bot.driver.click(
        Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1], message_ts=ts
    )
    assert reply.status == 200 and reply.elapsed < 2  # acked at once, refusal sent after
    (said,) = ephemeral(bot, 1)[-1:]
    assert said.params["text"] == "This restore plan was cancelled. Nothing changed."
    bot.driver.click(Action.APPROVE_RESTORE.value, "forged-plan-id", user=APPROVERS[1])
    assert "not known here" in ephemeral(bot, 2)[-1].params["text"]
    assert fetch(stations, "SELECT COUNT(*) FROM stations") == [(900,)]


def test_undo_is_itself_a_two_person_restore(bot: OfflineBot, stations: Engine) -> None:
    plan_id, ts = requested_plan(bot)
    bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1], message_ts=ts)
    outcome = wait_until(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text],
        what="outcome",
    )[0]
    bot.driver.click(
        Action.UNDO_RESTORE.value, buttons(outcome)[Action.UNDO_RESTORE.value], user=APPROVERS[2]
    )
    undo = wait_until(
        lambda: [
            c
            for c in bot.slack.calls_to("chat.postMessage")
            if "undo of an earlier restore" in c.block_text
        ],
        what="undo preview",
    )[0]
    assert "100 rows to remove" in undo.block_text
    undo_id = buttons(undo)[Action.REQUEST_RESTORE.value]
    bot.driver.click(Action.REQUEST_RESTORE.value, undo_id, user=APPROVERS[2])
    wait_until(
        lambda: (p := bot.store.plans.get(undo_id)) and p.state.value == "requested", what="rq"
    )
    bot.driver.click(Action.APPROVE_RESTORE.value, undo_id, user=APPROVERS[3])
    wait_until(
        lambda: (p := bot.store.plans.get(undo_id)) and p.state.value == "executed", what="undo"
    )
    assert fetch(stations, "SELECT COUNT(*) FROM stations") == [(900,)]
    assert fetch(stations, "SELECT COUNT(*) FROM trips") == [(2700,)]
    bot.driver.click(  # the outcome's button outlives the undo: a late click is refused
        Action.UNDO_RESTORE.value, buttons(outcome)[Action.UNDO_RESTORE.value], user=APPROVERS[2]
    )
    assert "already undone" in ephemeral(bot, 1)[-1].params["text"]


def test_user_group_approvers(database_url: str, stations: Engine) -> None:
    with OfflineBot(database_url, vault_approvers=["U0ALICE", "S0ONCALL"]) as bot:
        bot.slack.usergroups["S0ONCALL"] = ["U0DAVE"]
        preview = preview_from_find(bot, "stations")
        plan_id = buttons(preview)[Action.REQUEST_RESTORE.value]
        bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user="U0ALICE")
        wait_until(
            lambda: (p := bot.store.plans.get(plan_id)) and p.state.value == "requested", what="r"
        )
        bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0DAVE")
        wait_until(
            lambda: (p := bot.store.plans.get(plan_id)) and p.state.value == "executed", what="x"
        )


def test_a_click_before_the_preview_is_stored_is_decided_and_shown(
    bot: OfflineBot, stations: Engine
) -> None:
    """Slack answers the preview's post late: the Request click lands before the bot knows
    the message's ts. It must not be refused, and the preview must still show its result."""
    bot.slack.slow("chat.postMessage", 5.0, containing="Restore preview")
    preview = preview_from_find(bot, "stations", user=APPROVERS[0])
    plan_id = buttons(preview)[Action.REQUEST_RESTORE.value]
    bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user=APPROVERS[0])
    wait_until(
        lambda: (p := bot.store.plans.get(plan_id)) and p.state.value == "requested", what="r"
    )
    assert bot.store.plans.get(plan_id).ts is None, "the click came in the gap"

    ts = wait_until(lambda: bot.store.plans.get(plan_id).ts, what="the preview's ts stored")
    shown = wait_until(
        lambda: [c for c in bot.slack.calls_to("chat.update") if c.params.get("ts") == ts],
        what="the preview refreshed",
    )[-1]
    assert Action.APPROVE_RESTORE.value in buttons(shown)
    assert_valid_message(shown.text, shown.blocks)
    bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1], message_ts=ts)
    wait_until(
        lambda: (p := bot.store.plans.get(plan_id)) and p.state.value == "executed", what="x"
    )
    trail = [e["action"] for e in bot.store.audit.trail(limit=100)]
    assert trail.count("request") == 1 and trail.count("executed") == 1
    assert not [a for a in trail if a.startswith("refused")]


def test_a_plan_change_and_its_audit_line_commit_together(
    bot: OfflineBot, stations: Engine
) -> None:
    preview = preview_from_find(bot, "stations", user=APPROVERS[0])
    plan_id = buttons(preview)[Action.REQUEST_RESTORE.value]
    # The bot stores the preview's ts after posting it: a later version than the one we hold.
    rec = wait_until(
        lambda: (r := bot.store.plans.get(plan_id)) and r.ts and r, what="the preview's ts stored"
    )
    moved = bot.store.plans.update(rec.id, lambda r: replace(r, thread_ts="1.000001"))
    assert moved is not None and moved.version == rec.version + 1

    cancel = Note(APPROVERS[0], "cancel", "cancelled")
    assert not bot.store.replace_plan(rec, replace(rec, state=PlanState.CANCELLED), cancel)
    assert bot.store.plans.get(rec.id).state is PlanState.PREVIEWED
    assert "cancel" not in [e["action"] for e in bot.store.audit.trail(limit=100)]

    assert bot.store.replace_plan(moved, replace(moved, state=PlanState.CANCELLED), cancel)
    stored = bot.store.plans.get(rec.id)
    assert stored.state is PlanState.CANCELLED and stored.thread_ts == "1.000001"
    assert [e["action"] for e in bot.store.audit.trail(limit=100)].count("cancel") == 1


def test_a_restore_that_fails_verification_says_so_and_writes_nothing(
    database_url: str, engine: Engine
) -> None:
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url, vault_rehearse_rows=0) as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        # after the preview, someone adds a trigger that rewrites every re-inserted trip
        run_sql(engine, "CREATE TRIGGER late BEFORE INSERT ON trips FOR EACH ROW SET NEW.fare = 0")
        bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
        wait_state(bot, plan_id, "failed")
        failure = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "did not run" in c.text],
            what="the failure message",
        )[0]
        assert not [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text]
    assert "rows still differ from history" in failure.block_text
    assert "`trips`: " in failure.block_text and "fare" in failure.block_text
    assert fetch(engine, "SELECT COUNT(*) FROM stations") == [(900,)]


def test_a_plan_id_clicked_on_another_message_is_refused(bot: OfflineBot, stations: Engine) -> None:
    """A decision counts only from the preview that shows the plan: the same button value
    in another channel (or another message) changes nothing."""
    plan_id, ts = requested_plan(bot)
    bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1], channel="C0OTHER")
    bot.driver.click(
        Action.APPROVE_RESTORE.value,
        plan_id,
        user=APPROVERS[1],
        channel="C0INCIDENT",
        message_ts="1.000999",
    )
    refusals = ephemeral(bot, 2)
    assert all("not on this plan's preview" in c.params["text"] for c in refusals[-2:])
    assert bot.store.plans.get(plan_id).state.value == "requested"
    bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1], message_ts=ts)
    wait_until(
        lambda: bot.store.plans.get(plan_id).state.value == "executed", what="the real click"
    )


def test_a_restore_is_never_recorded_as_run_without_its_outcome_queued(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's new state, its audit lines, the outcome message and the incident's state
    commit in one transaction. A failure while queueing the outcome (where a dying process
    would stop) leaves the plan *executing* for the sweep, never *executed* with nobody told;
    the sweep then says so in the thread."""
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url) as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        died = threading.Event()
        real = restore_flow.enqueue_in

        def dying(conn: Any, incident_id: str | None, note: Notification) -> None:
            if "Restored" in str(note.payload):
                died.set()
                raise RuntimeError("the process died here")
            real(conn, incident_id, note)

        monkeypatch.setattr(restore_flow, "enqueue_in", dying)
        bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
        assert died.wait(20), "the restore never reached its outcome"
        time.sleep(0.5)  # anything committed in spite of the failure would be stored by now
        rec = bot.store.plans.get(plan_id)
        assert rec is not None and rec.state is PlanState.EXECUTING
        trail = [e["action"] for e in bot.store.audit.trail(limit=None)]
        assert "executed" not in trail and "validated" not in trail
        assert not [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text]

        monkeypatch.undo()
        deps = bot.runtime.deps
        assert sweep_interrupted(deps, SlackPort.of(deps, bot.app.client)) == 1
        wait_state(bot, plan_id, "stale")  # the restore did write: the data moved since
        said = posted(bot, "stopped before it finished")
        assert said.params.get("thread_ts")  # in the incident's thread
