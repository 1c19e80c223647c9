"""Values from the database cannot ping a channel or break out of a code span: keys like
``<!here>`` go through the alert, the finder, the preview's conflicts and time travel, and
never reach Slack unescaped."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from core.timeutil import fmt_instant
from tests.support.flows import buttons
from tests.support.slack import assert_valid_message
from tests.support.sql import now, run_sql

HOSTILE = ("<!here>", "<@U0BOSS>", "```boom", "a&b<c>", "`tick`")
TAGS = (
    "CREATE TABLE tags (code VARCHAR(40) PRIMARY KEY, note VARCHAR(60),"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING",
    "INSERT INTO tags SELECT CONCAT('k', LPAD(seq, 4, '0')), 'plain' FROM seq_1_to_400",
    *(f"INSERT INTO tags VALUES ('{v}', '{v}')" for v in HOSTILE),
)


def _said(bot: OfflineBot) -> str:
    """Everything FlightVault sent to Slack, as one string."""
    return "\n".join(json.dumps(c.params, default=str) for c in bot.slack.calls)


def test_hostile_keys_are_escaped_everywhere_they_are_shown(
    database_url: str, engine: Engine
) -> None:
    run_sql(engine, *TAGS)
    with OfflineBot(database_url, watch=True) as bot:
        before = now(engine)
        run_sql(engine, "DELETE FROM tags")
        (alert,) = bot.slack.wait_for("chat.postMessage", timeout=20)
        assert_valid_message(alert.text, alert.blocks)
        assert "&lt;!here&gt;" in alert.block_text  # the sample shows it, escaped
        run_sql(engine, "INSERT INTO tags VALUES ('<!here>', 'by hand')")  # a conflict now
        bot.driver.slash("find tags since 1h")
        found = wait_until(
            lambda: [
                c
                for c in bot.slack.calls_to("chat.postMessage")
                if Action.PREVIEW_RESTORE.value in buttons(c)
            ],
            what="the finder's answer",
        )[-1]
        bot.driver.click(Action.PREVIEW_RESTORE.value, buttons(found)[Action.PREVIEW_RESTORE.value])
        preview = wait_until(
            lambda: [
                c for c in bot.slack.calls_to("chat.postMessage") if "Restore preview" in c.text
            ],
            what="the preview",
        )[-1]
        assert "in conflict" in preview.block_text and "&lt;!here&gt;" in preview.block_text
        bot.driver.slash(f"at tags {fmt_instant(before)}")
        view = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "then," in c.block_text],
            what="time travel",
        )[-1]
        assert_valid_message(view.text, view.blocks)
        said = _said(bot)
    for raw in ("<!here>", "<@U0BOSS>", "```boom", "`tick`", "a&b<c>"):
        assert raw not in said, f"{raw!r} reached Slack unescaped"
