"""A watch-only account alerts and finds but cannot restore; the restore account needs only
SELECT, INSERT, UPDATE, DELETE and CREATE TEMPORARY TABLES."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from tests.support.flows import approve, find_and_preview, first_button, request
from tests.support.sql import run_sql


def test_watch_only_account_alerts_finds_and_is_refused_restore(
    engine: Engine, account: tuple[str, str, str], tmp_path: Path
) -> None:
    user, schema, url = account
    run_sql(engine, f"GRANT SELECT ON `{schema}`.* TO '{user}'@'%'")
    with OfflineBot(url, watch=True, vault_state_url=f"sqlite:///{tmp_path}/s.db") as bot:
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        bot.slack.wait_for("chat.postMessage")  # the alert
        bot.driver.slash("find stations")
        found = wait_until(
            lambda: [
                c for c in bot.slack.calls_to("chat.postMessage") if "Restore point" in c.text
            ],
            what="finder",
        )[0]
        bot.driver.click(Action.PREVIEW_RESTORE.value, first_button(found))
        refusal = wait_until(
            lambda: [
                c
                for c in bot.slack.calls
                if c.kind == "response" and "can watch but not restore" in str(c.params.get("text"))
            ],
            what="the refusal",
        )[0]
    text = refusal.params["text"]
    assert f"GRANT INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES ON `{schema}`.*" in text
    assert refusal.params["response_type"] == "ephemeral"


def test_restore_account_needs_only_the_documented_grants(
    engine: Engine, account: tuple[str, str, str], tmp_path: Path
) -> None:
    user, schema, url = account
    run_sql(
        engine,
        f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES"
        f" ON `{schema}`.* TO '{user}'@'%'",
    )
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(url, vault_state_url=f"sqlite:///{tmp_path}/s.db") as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        approve(bot, plan_id)
