"""Protecting a table over signed HTTP: the preview shows the statement, size and estimate;
the requester cannot approve alone; a second approver runs it, audited; refusals are one
private sentence and change nothing."""

from __future__ import annotations

import threading
import time
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
from core.catalogue import load_catalogue
from core.changelock import holding
from core.state.audit import Note
from core.state.common import Notification
from handlers.slack_port import SlackPort
from tests.core.detect_schema import STATIONS
from tests.support.flows import buttons, posted
from tests.support.sql import run_sql
from usecases import schema_change
from usecases.schema_change import sweep_interrupted_changes

ORDERS = (
    "CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40) NOT NULL, qty INT NOT NULL)"
    " ENGINE=InnoDB",
    "INSERT INTO orders SELECT seq, CONCAT('item ', seq), seq % 7 FROM seq_1_to_500",
    "CREATE TABLE nokey (v INT) ENGINE=InnoDB",
    "CREATE TABLE flat (id INT PRIMARY KEY) ENGINE=MyISAM",
)


def section_text(call: Call) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in call.blocks)


def versioned(engine: Engine, table: str) -> bool:
    with engine.connect() as conn:
        return load_catalogue(conn).get(table).period is not None


def test_protect_runs_after_a_second_approver(database_url: str, engine: Engine) -> None:
    run_sql(engine, *ORDERS)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT id, item, qty FROM orders ORDER BY id")).all()
    with OfflineBot(database_url) as bot:
        bot.driver.slash("protect orders", user="U0ALICE")
        request = posted(bot, "Protect orders: requested")
        text = section_text(request)
        assert (
            "ALTER TABLE `orders` ADD COLUMN `row_start` TIMESTAMP(6)"
            " GENERATED ALWAYS AS ROW START INVISIBLE" in text
        )
        assert "ADD PERIOD FOR SYSTEM_TIME(`row_start`, `row_end`), ADD SYSTEM VERSIONING" in text
        assert "ADD INDEX (`row_end`)" in text and "ALGORITHM=COPY, LOCK=SHARED" in text
        assert "rows ·" in text and "MB data" in text and "writes to it wait" in text
        assert "VAULT_PROTECT_COPY_RATE" in text, "says how the estimate was made"
        change_id = buttons(request)[Action.APPROVE_CHANGE.value]

        bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0ALICE")
        assert "second, different person" in bot.slack.wait_for_response("second, different").text
        assert not versioned(engine, "orders"), "the requester alone changed nothing"

        bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0BOB")
        wait_until(
            lambda: (c := bot.store.changes.get(change_id)) and c.state.value == "executed",
            what="the change executed",
        )
        done = posted(bot, "is now system-versioned")
        assert "orders is now system-versioned with row_end indexed" in done.text
        with engine.connect() as conn:
            catalogue = load_catalogue(conn)
            info = catalogue.watchable("orders")  # the watcher can watch it now
            assert info.period is not None and info.period.end_indexed
            assert not info.period.implicit and info.key == ("id",)
            assert "orders" in [t.name for t in catalogue.watched()]
            after = conn.execute(sa.text("SELECT id, item, qty FROM orders ORDER BY id")).all()
        assert after == before, "versioning kept every row as it was"
        lines = [(e["action"], e["plan_id"]) for e in bot.store.audit.trail(limit=None)]
        assert ("protect request", change_id) in lines
        assert ("approve", change_id) in lines and ("executed", change_id) in lines
        assert ("refused approve", change_id) in lines

        # A late click on the done request runs nothing twice.
        bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0CAROL")
        assert (
            "already been carried out"
            in bot.slack.wait_for_response("already been carried out").text
        )


def test_protect_refusals_are_one_sentence_and_change_nothing(
    database_url: str, engine: Engine
) -> None:
    run_sql(engine, *STATIONS[:1], *ORDERS)
    with OfflineBot(database_url) as bot:
        bot.driver.slash("protect nokey", user="U0ALICE")
        assert (
            "neither a primary key nor a UNIQUE key"
            in bot.slack.wait_for_response("neither a primary key").text
        )
        bot.driver.slash("protect stations", user="U0ALICE")
        assert (
            "already system-versioned"
            in bot.slack.wait_for_response("already system-versioned").text
        )
        bot.driver.slash("protect flat", user="U0ALICE")
        assert "MyISAM engine" in bot.slack.wait_for_response("MyISAM").text
        bot.driver.slash("protect nosuch", user="U0ALICE")
        assert "There is no table `nosuch`" in bot.slack.wait_for_response("There is no table").text
        refused = bot.driver.slash("protect orders", user="U0DAVE").json()["text"]
        assert (
            refused == "Only people listed in VAULT_APPROVERS can protect tables. Nothing changed."
        )
        assert not [c for c in bot.slack.calls_to("chat.postMessage") if "Protect" in c.text]
    assert not versioned(engine, "orders") and not versioned(engine, "nokey")


def test_an_account_without_alter_is_refused_before_anyone_approves(
    engine: Engine, account: tuple[str, str, str]
) -> None:
    """A real account with only SELECT/INSERT/UPDATE/DELETE: the request names the missing
    GRANT at once, and nothing is posted for two people to approve in vain."""
    user, schema, url = account
    run_sql(
        engine, *ORDERS, f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{schema}`.* TO '{user}'@'%'"
    )
    with OfflineBot(url) as bot:
        bot.driver.slash("protect orders", user="U0ALICE")
        said = bot.slack.wait_for_response("may not ALTER").text
        assert f"GRANT ALTER ON `{schema}`.`orders` TO '{user}'@'%'" in said
        assert not [c for c in bot.slack.calls_to("chat.postMessage") if "Protect" in c.text]
        run_sql(engine, f"GRANT ALTER ON `{schema}`.`orders` TO '{user}'@'%'")
        bot.driver.slash("protect orders", user="U0ALICE")
        posted(bot, "Protect orders: requested")  # the table-level grant is enough
    assert not versioned(engine, "orders")


def left_executing(bot: OfflineBot, change_id: str) -> None:
    """What a process that died just after the approving click leaves: the request
    *executing*, its outcome never stored (and its lock freed with its connection).
    Waits for the bot to store where it posted the request (a later version) first, or the
    compare-and-set below would race that write."""
    rec = wait_until(
        lambda: (r := bot.store.changes.get(change_id)) and r.ts and r,
        what="the request's ts stored",
    )
    running = replace(rec, state=PlanState.EXECUTING, approvals=("U0BOB",))
    assert bot.store.replace_change(rec, running, Note("U0BOB", "approve", "protect"))


def test_the_sweep_settles_protect_requests_a_dead_process_left_executing(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """The leader's sweep chore finds them: done when the ALTER completed before the process
    died, failed when it had not; one still held by a live process is left alone."""
    run_sql(
        engine,
        *ORDERS,
        "CREATE TABLE parcels (id INT PRIMARY KEY) ENGINE=InnoDB",
        "CREATE TABLE crates (id INT PRIMARY KEY) ENGINE=InnoDB",
    )
    state = f"sqlite:///{tmp_path}/state.db"  # the store outlives the first process
    with OfflineBot(database_url, vault_state_url=state) as bot:
        ids = {}
        for table in ("orders", "parcels", "crates"):
            bot.driver.slash(f"protect {table}", user="U0ALICE")
            ids[table] = buttons(posted(bot, f"Protect {table}: requested"))[
                Action.APPROVE_CHANGE.value
            ]
            left_executing(bot, ids[table])
        run_sql(engine, bot.store.changes.get(ids["orders"]).spec["statements"][0])
        with holding(bot.engine, ids["crates"]) as held:  # a live process is running this one
            assert held
            deps = bot.runtime.deps
            assert sweep_interrupted_changes(deps, SlackPort.of(deps, bot.app.client)) == 2
            assert bot.store.changes.get(ids["crates"]).state is PlanState.EXECUTING
        assert bot.store.changes.get(ids["orders"]).state is PlanState.EXECUTED
        assert bot.store.changes.get(ids["parcels"]).state is PlanState.FAILED
        assert "the ALTER completed" in posted(bot, "orders is system-versioned").text
        assert "parcels is not versioned" in posted(bot, "before the ALTER finished").text
        lines = [(e["action"], e["plan_id"]) for e in bot.store.audit.trail(limit=None)]
        assert ("interrupted", ids["orders"]) in lines and ("interrupted", ids["parcels"]) in lines

    with OfflineBot(
        database_url, vault_state_url=state, watch=True
    ) as bot:  # the leader's sweep chore, unprompted
        wait_until(
            lambda: bot.store.changes.get(ids["crates"]).state is PlanState.FAILED,
            what="the scheduled sweep settling crates",
        )


def test_a_change_is_never_settled_without_its_outcome_queued(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's outcome, its audit line and the thread's message commit together: a
    failure while queueing the message (where a dying process would stop) leaves the request
    *executing*, and the sweep then settles it and says so."""
    run_sql(engine, *ORDERS)
    with OfflineBot(database_url) as bot:
        bot.driver.slash("protect orders", user="U0ALICE")
        change_id = buttons(posted(bot, "Protect orders: requested"))[Action.APPROVE_CHANGE.value]
        died = threading.Event()

        def dying(conn: Any, incident_id: str | None, note: Notification) -> None:
            died.set()
            raise RuntimeError("the process died here")

        monkeypatch.setattr(schema_change, "enqueue_in", dying)
        bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0BOB")
        assert died.wait(30), "the change never reached its outcome"
        time.sleep(0.5)  # anything committed in spite of the failure would be stored by now
        assert bot.store.changes.get(change_id).state is PlanState.EXECUTING
        assert versioned(engine, "orders"), "the ALTER itself ran"
        assert not [c for c in bot.slack.calls_to("chat.postMessage") if "now system" in c.text]
        lines = [(e["action"], e["plan_id"]) for e in bot.store.audit.trail(limit=None)]
        assert ("executed", change_id) not in lines

        monkeypatch.undo()
        deps = bot.runtime.deps
        assert sweep_interrupted_changes(deps, SlackPort.of(deps, bot.app.client)) == 1
        assert bot.store.changes.get(change_id).state is PlanState.EXECUTED
        assert "the ALTER completed" in posted(bot, "orders is system-versioned").text
