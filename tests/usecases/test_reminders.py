"""A pending request reminds the approvers once and announces its expiry once, even when the
bot restarts in between; the expired preview keeps no live buttons."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from tests.core.detect_schema import STATIONS
from tests.support.flows import find_and_preview, request, wait_state
from tests.support.sql import run_sql

TIMING = {"vault_remind_after": 2.5, "vault_plan_ttl": 11}


def said(bot: OfflineBot, text: str) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if text in c.text]


def test_reminder_and_expiry_arrive_once_each_across_restarts(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    state = f"sqlite:///{tmp_path}/state.db"

    # 1. Preview and request in a process whose job loop never runs, then stop it.
    with OfflineBot(database_url, vault_state_url=state, **TIMING) as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        preview_ts = wait_until(  # stored after the preview is posted; a click may come first
            lambda: bot.store.plans.get(plan_id).ts, what="the preview's ts stored"
        )
    time.sleep(3.0)  # the reminder falls due while no bot runs

    # 2. A new process sends the overdue reminder, once, in the preview's thread.
    with OfflineBot(database_url, watch=True, vault_state_url=state, **TIMING) as bot:
        reminder = wait_until(lambda: said(bot, "Reminder"), what="the reminder")[0]
        assert "<@U0BOB>" in reminder.blocks[0]["text"]["text"]
        assert "<@U0ALICE> asked" in reminder.blocks[0]["text"]["text"]
        assert reminder.params["thread_ts"]
        time.sleep(2.0)  # more ticks of the job loop: nothing repeats
        assert len(said(bot, "Reminder")) == 1
        assert not said(bot, "expired")
    expires = bot.store.plans.get(plan_id).expires_at
    wait_until(lambda: time.time() > expires.timestamp() + 0.5, timeout=15, what="expiry time")

    # 3. Another restart after the expiry: the notice comes once, the reminder never again.
    with OfflineBot(database_url, watch=True, vault_state_url=state, **TIMING) as bot:
        notice = wait_until(lambda: said(bot, "expired unapproved"), what="the expiry notice")[0]
        assert "Nothing changed" in notice.blocks[0]["text"]["text"]
        wait_state(bot, plan_id, "expired")
        final = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.update") if c.params["ts"] == preview_ts],
            what="the preview's final state",
        )[-1]
        assert "expired" in final.text
        assert not [b for b in final.blocks if b["type"] == "actions"], "no dead buttons"
        time.sleep(2.0)
        assert len(said(bot, "expired unapproved")) == 1 and not said(bot, "Reminder")
        audit = [e["action"] for e in bot.store.audit.trail(limit=None)]
        assert audit.count("reminded") == 1 and audit.count("expired") == 1

    # 4. And once more: nothing is repeated by a fourth process.
    with OfflineBot(database_url, watch=True, vault_state_url=state, **TIMING) as bot:
        time.sleep(2.5)
        assert not said(bot, "Reminder") and not said(bot, "expired")


def test_an_approved_request_neither_reminds_nor_expires(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url, watch=True, **{**TIMING, "vault_plan_ttl": 8}) as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
        wait_state(bot, plan_id, "executed")
        expires = bot.store.plans.get(plan_id).expires_at.timestamp()
        wait_until(lambda: time.time() > expires + 1.5, timeout=15, what="past the expiry")
        wait_until(  # the job loop's next pass finishes both jobs, saying nothing
            lambda: bot.store.jobs.pending_for(plan_id) == [], what="the plan's jobs finished"
        )
        assert not said(bot, "Reminder") and not said(bot, "expired")
        assert bot.store.plans.get(plan_id).state.value == "executed"
