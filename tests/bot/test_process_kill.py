"""The bot process is SIGKILLed after each step of the approval flow and restarted."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.driver import SlackDriver
from bot.offline.wait import wait_until
from bot.offline.webapi import FakeSlackAPI
from bot.private_server import free_port
from core.state.store import StateStore
from tests.core.detect_schema import STATIONS
from tests.support.flows import buttons
from tests.support.process import start_bot
from tests.support.sql import run_sql


def bot_settings(slack: FakeSlackAPI, database_url: str, state: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-kill",
        "SLACK_SIGNING_SECRET": "kill-secret",
        "SLACK_API_URL": slack.base_url,
        "VAULT_DATABASE_URL": database_url,
        "VAULT_ALERT_CHANNEL": "C0INCIDENT",
        "VAULT_APPROVERS": "U0ALICE,U0BOB,U0CAROL",
        "VAULT_STATE_URL": state,
    }


def preview_plan(driver: SlackDriver, slack: FakeSlackAPI) -> str:
    """``/vault find`` then *Preview restore* against the bot process; returns the plan ID."""
    driver.slash("find stations")
    found = wait_until(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Restore point" in c.text],
        what="finder",
    )[0]
    driver.click(Action.PREVIEW_RESTORE.value, buttons(found)[Action.PREVIEW_RESTORE.value])
    preview = wait_until(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Restore preview" in c.text],
        what="preview",
    )[0]
    return buttons(preview)[Action.REQUEST_RESTORE.value]


def test_kill_at_every_step(database_url: str, engine: Engine, tmp_path: Path) -> None:
    run_sql(engine, *STATIONS)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    state = f"sqlite:///{tmp_path}/state.db"
    port = free_port()
    with FakeSlackAPI(token="xoxb-kill") as slack:
        settings = bot_settings(slack, database_url, state)
        driver = SlackDriver(f"http://127.0.0.1:{port}", "kill-secret", slack.root, slack)
        process = start_bot(tmp_path, port, **settings)

        def restart() -> subprocess.Popen[bytes]:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            return start_bot(tmp_path, port, **settings)

        try:
            driver.slash("find stations")
            found = wait_until(
                lambda: [
                    c for c in slack.calls_to("chat.postMessage") if "Restore point" in c.text
                ],
                what="finder",
            )[0]
            process = restart()  # killed after the finder answered
            driver.click(Action.PREVIEW_RESTORE.value, buttons(found)[Action.PREVIEW_RESTORE.value])
            preview = wait_until(
                lambda: [
                    c for c in slack.calls_to("chat.postMessage") if "Restore preview" in c.text
                ],
                what="preview",
            )[0]
            plan_id = buttons(preview)[Action.REQUEST_RESTORE.value]
            process = restart()  # killed after the preview
            driver.click(Action.REQUEST_RESTORE.value, plan_id, user="U0ALICE")
            store = StateStore.from_url(state)
            wait_until(
                lambda: (p := store.plans.get(plan_id)) and p.state.value == "requested",
                what="request",
            )
            process = restart()  # killed after the request
            driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
            wait_until(
                lambda: (p := store.plans.get(plan_id)) and p.state.value == "executed",
                timeout=20,
                what="execution",
            )
            process = restart()  # killed after the restore
            driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0CAROL")
            wait_until(
                lambda: any(
                    "already been carried out" in str(c.params.get("text"))
                    for c in slack.calls
                    if c.kind == "response"
                ),
                what="the late approval refused",
            )
            executed = [e for e in store.audit.trail(limit=100) if e["action"] == "executed"]
            store.dispose()
        finally:
            process.kill()
            process.wait(10)
    assert len(executed) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stations")).scalar_one() == 1000
        assert conn.execute(sa.text("SELECT COUNT(*) FROM trips")).scalar_one() == 3000


def test_kill_during_the_restore_is_reconciled(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    run_sql(engine, *STATIONS)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    state = f"sqlite:///{tmp_path}/state.db"
    port = free_port()
    with FakeSlackAPI(token="xoxb-kill") as slack:
        settings = bot_settings(slack, database_url, state)
        driver = SlackDriver(f"http://127.0.0.1:{port}", "kill-secret", slack.root, slack)
        process = start_bot(tmp_path, port, **settings)
        store = StateStore.from_url(state)
        blocker = engine.connect()
        try:
            plan_id = preview_plan(driver, slack)
            driver.click(Action.REQUEST_RESTORE.value, plan_id, user="U0ALICE")
            wait_until(
                lambda: (p := store.plans.get(plan_id)) and p.state.value == "requested",
                what="request",
            )
            blocker.execute(sa.text("SET SESSION foreign_key_checks = 0"))
            blocker.execute(sa.text("INSERT INTO trips VALUES (10, 10, 1)"))  # holds a key
            driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
            wait_until(
                lambda: (p := store.plans.get(plan_id)) and p.state.value == "executing",
                what="executing",
            )
            time.sleep(0.5)  # the restore is now waiting on the blocker's lock
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            blocker.rollback()
            process = start_bot(tmp_path, port, **settings)
            wait_until(
                lambda: (p := store.plans.get(plan_id)) and p.state.value == "failed",
                timeout=20,
                what="the interrupted restore reconciled",
            )
            notice = wait_until(
                lambda: [
                    c
                    for c in slack.calls_to("chat.postMessage")
                    if "stopped before it finished" in c.text
                ],
                what="the notice",
            )[0]
        finally:
            blocker.close()
            store.dispose()
            process.kill()
            process.wait(10)
    assert "nothing was written" in notice.text
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stations")).scalar_one() == 900
