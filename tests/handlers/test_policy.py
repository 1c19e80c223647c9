"""Who may see what: guests never get the database's rows; VAULT_VIEWERS limits the read
commands and buttons; every refusal is one private sentence."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from tests.core.detect_schema import STATIONS
from tests.support.sql import run_sql


def test_a_guest_gets_no_row_values(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url) as bot:
        bot.slack.guests.add("U0GUEST")
        first = bot.driver.slash("find stations since 1h", user="U0GUEST")
        assert first.status == 200 and first.json()["text"].startswith("Checking")
        bot.slack.wait_for_response("Guest accounts cannot search the history")
        again = bot.driver.slash("at stations 1h", user="U0GUEST")  # now known: at once
        assert again.json()["text"].startswith("Guest accounts cannot travel in time")
        bot.driver.click(Action.PREVIEW_RESTORE.value, "any-finding", user="U0GUEST")
        bot.slack.wait_for_response("Guest accounts cannot preview a restore")
        assert bot.slack.calls_to("chat.postMessage") == []  # nothing shown to anyone


def test_viewers_limit_the_read_commands(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, vault_viewers=["U0VIEW"]) as bot:
        refused = bot.driver.slash("status", user="U0OTHER")
        assert refused.json()["text"] == (
            "Only people listed in VAULT_VIEWERS or VAULT_APPROVERS can see FlightVault's status."
        )
        bot.driver.slash("status", user="U0VIEW")  # a viewer, once Slack says not a guest
        wait_until(
            lambda: [c for c in bot.slack.calls if c.kind == "response" and c.blocks],
            what="the status",
        )
        assert bot.driver.slash("status", user="U0ALICE").json()["text"].startswith("Gathering")
