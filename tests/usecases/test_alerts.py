"""The seed story's first act, over real HTTP: a deletion becomes one alert in Slack."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from core.timeutil import fmt_instant
from tests.core.detect_schema import STATIONS
from tests.support.slack import assert_valid_message
from tests.support.sql import run_sql


@pytest.fixture
def stations(engine: Engine) -> Engine:
    run_sql(engine, *STATIONS)
    return engine


@pytest.fixture
def watching_bot(database_url: str, stations: Engine) -> Iterator[OfflineBot]:
    with OfflineBot(database_url, watch=True) as bot:
        yield bot


def roots(bot: OfflineBot) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if not c.params.get("thread_ts")]


def test_mass_delete_posts_one_alert_with_the_facts(
    watching_bot: OfflineBot, stations: Engine
) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    (alert,) = watching_bot.slack.wait_for("chat.postMessage")
    assert_valid_message(alert.text, alert.blocks)
    assert alert.params["channel"] == "C0INCIDENT"
    header = alert.blocks[0]["text"]["text"]
    assert header == ":rotating_light: 100 rows deleted from stations"
    facts = " ".join(f["text"] for f in alert.blocks[1]["fields"])
    assert "100 rows deleted (10.00% of 1,000)" in facts and "UTC`" in facts
    impact = alert.blocks[2]["text"]["text"]
    assert "`trips`: 300 rows removed _(via fk_trips_station ON DELETE CASCADE)_" in impact
    sample = alert.blocks[3]["text"]["text"]
    assert "S00010" in sample and "Station 10" in sample and "… and 95 more" in sample
    buttons = alert.blocks[4]["elements"]
    assert [b["action_id"] for b in buttons] == [
        Action.FIND_RESTORE_POINT.value,
        Action.SHOW_FULL_DIFF.value,
    ]
    incident_id = buttons[0]["value"]
    incident = wait_until(
        lambda: (i := watching_bot.store.incidents.get(incident_id)) and i.root_ts and i,
        what="the alert's ts stored",
    )
    assert incident.root_ts == alert.params["ts"]  # the thread is the alert's
    assert fmt_instant(incident.first_instant) in facts
    wait_until(lambda: watching_bot.store.outbox.pending_count() == 0, what="outbox drained")
    assert len(roots(watching_bot)) == 1
    wait_until(  # counted just after the alert's ts and its audit line are stored
        lambda: (
            "flightvault_alerts_posted_total 1.0"
            in watching_bot.runtime.deps.metrics.render().decode()
        ),
        what="the alert counted in the metrics",
    )


def test_buttons_answer_in_the_incident_thread(watching_bot: OfflineBot, stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    (alert,) = watching_bot.slack.wait_for("chat.postMessage")
    incident_id = alert.blocks[4]["elements"][0]["value"]
    incident = wait_until(
        lambda: (i := watching_bot.store.incidents.get(incident_id)) and i.root_ts and i,
        what="root ts stored",
    )
    reply = watching_bot.driver.click(Action.FIND_RESTORE_POINT.value, incident_id)
    assert reply.status == 200
    _, searching = watching_bot.slack.wait_for("chat.postMessage", 2)
    assert searching.params["thread_ts"] == incident.root_ts
    (answer,) = watching_bot.slack.wait_for("chat.update")
    point = fmt_instant(incident.first_instant - timedelta(microseconds=1))
    assert f"*Restore point for `stations`: `{point}`*" in answer.blocks[0]["text"]["text"]
    assert_valid_message(answer.text, answer.blocks)

    assert watching_bot.driver.click(Action.SHOW_FULL_DIFF.value, incident_id).status == 200
    # The finder's timeline PNG is uploaded too, on another thread: wait for the diff's CSVs.
    done = wait_until(
        lambda: [
            c
            for c in watching_bot.slack.calls_to("files.completeUploadExternal")
            if len(json.loads(c.params["files"])) == 2
        ],
        what="the full diff's files",
    )[-1]
    diff = watching_bot.slack.calls_to("chat.postMessage")[2]
    assert diff.params["thread_ts"] == incident.root_ts
    assert "`stations`: 100 deleted" in diff.blocks[0]["text"]["text"]
    assert "`trips`: 300 deleted" in diff.blocks[0]["text"]["text"]
    files = {f["id"] for f in json.loads(done.params["files"])}
    uploads = [c for c in watching_bot.slack.calls if c.kind == "upload" and c.method in files]
    assert len(uploads) == 2
    tables = {}
    for upload in uploads:
        rows = list(csv.reader(io.StringIO(upload.params["data"].decode())))
        tables[rows[0][1:3] == ["id", "code"]] = rows
    assert len(tables[True]) == 101 and tables[True][1][:3] == ["deleted", "10", "S00010"]
    assert len(tables[False]) == 301
    assert done.params["thread_ts"] == incident.root_ts


def test_unknown_incident_button_gets_a_private_sentence(watching_bot: OfflineBot) -> None:
    assert watching_bot.driver.click(Action.FIND_RESTORE_POINT.value, "forged-id").status == 200
    (said,) = (
        watching_bot.slack.wait_for("r1")
        if False
        else wait_until(
            lambda: [c for c in watching_bot.slack.calls if c.kind == "response"], what="response"
        )
    )
    assert said.params["response_type"] == "ephemeral"
    assert said.params["text"].startswith("I can't find that incident")


def test_small_delete_posts_nothing(watching_bot: OfflineBot, stations: Engine) -> None:
    run_sql(stations, "DELETE FROM trips WHERE id IN (1, 2, 3)")
    wait_until(lambda: (r := watching_bot.runtime.loop.last_report) and r.events, what="read")
    assert watching_bot.slack.calls_to("chat.postMessage") == []


def test_rate_limit_and_server_errors_delay_but_never_drop(
    database_url: str, stations: Engine
) -> None:
    with OfflineBot(database_url, watch=True) as bot:
        bot.slack.fail("chat.postMessage", 429, times=2, retry_after=1)
        run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
        wait_until(
            lambda: bot.store.outbox.pending_count() == 0 and roots(bot), timeout=20, what="alert"
        )
        bot.slack.fail("chat.postMessage", 500, times=6)  # more than the client's own retries
        run_sql(stations, "UPDATE trips SET fare = 0 WHERE id > 2000")
        run_sql(stations, "DELETE FROM stations WHERE id BETWEEN 1 AND 99")
        wait_until(lambda: len(roots(bot)) >= 2, timeout=30, what="later alerts")
        wait_until(lambda: bot.store.outbox.pending_count() == 0, timeout=30, what="outbox drained")
    headers = [c.blocks[0]["text"]["text"] for c in roots(bot)]
    assert headers[0] == ":rotating_light: 100 rows deleted from stations"
    # 1,000 targeted; 100 were already gone by cascade and 9 already had fare 0 (no-op rewrites)
    assert headers[1] == ":rotating_light: 891 rows changed in trips"
    assert len(headers) == 2, "the later deletion joined the stations incident's thread"


def test_restart_does_not_realert(database_url: str, stations: Engine, tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    with OfflineBot(database_url, watch=True, vault_state_url=state) as first:
        run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
        first.slack.wait_for("chat.postMessage")
        wait_until(lambda: first.store.outbox.pending_count() == 0, what="delivered")
    with OfflineBot(database_url, watch=True, vault_state_url=state) as second:
        wait_until(
            lambda: (r := second.runtime.loop.last_report) and r.full_read, what="a full read"
        )
        assert second.slack.calls_to("chat.postMessage") == []


def test_two_bot_processes_post_one_alert(
    database_url: str, stations: Engine, second_database_url: str
) -> None:
    with (
        OfflineBot(database_url, watch=True, vault_state_url=second_database_url) as a,
        OfflineBot(database_url, watch=True, vault_state_url=second_database_url) as b,
    ):
        run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
        wait_until(lambda: roots(a) or roots(b), what="an alert")
        wait_until(lambda: a.store.outbox.pending_count() == 0, what="outbox drained")
        posted = roots(a) + roots(b)
    assert len(posted) == 1


def test_alert_times_are_explicit_utc(watching_bot: OfflineBot, stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    (alert,) = watching_bot.slack.wait_for("chat.postMessage")
    instant = alert.blocks[1]["fields"][2]["text"].split("`")[1]
    parsed = datetime.strptime(instant, "%Y-%m-%d %H:%M:%S.%f UTC")
    assert parsed.microsecond or instant.endswith(".000000 UTC")
