"""``/vault status``, ``dismiss``, ``watch`` and ``unwatch`` over signed HTTP."""

from __future__ import annotations

from pathlib import Path

from slack_bolt.request import BoltRequest
from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import FakeSlackAPI
from bot.runtime import build_runtime
from bot.settings import Settings
from tests.core.detect_schema import STATIONS
from tests.support.sql import run_sql


def answers(bot: OfflineBot) -> list[str]:
    return [str(c.params.get("text")) for c in bot.slack.calls if c.kind == "response"]


def test_status_dismiss_watch_unwatch(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, watch=True, vault_poll_interval=1) as bot:
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        alert = bot.slack.wait_for("chat.postMessage")[0]
        short = alert.blocks[-1]["elements"][0]["text"].split("`")[1]
        wait_until(  # audited just after the post: before the dismissal below, in the trail
            lambda: "alert posted" in [e["action"] for e in bot.store.audit.trail()],
            what="the alert's audit line",
        )

        assert bot.driver.slash("status").json()["text"].startswith("Gathering")
        status = wait_until(
            lambda: [c for c in bot.slack.calls if c.kind == "response" and c.blocks],
            what="status",
        )[0]
        text = status.blocks[0]["text"]["text"]
        assert "`stations`:" in text and "`trips`:" in text
        assert f"`{short}` `stations`: 100 deleted, open" in text

        refused = bot.driver.slash(f"dismiss {short}", user="U0MALLORY").json()["text"]
        assert refused.startswith("Only people listed in VAULT_APPROVERS")
        assert bot.driver.slash("dismiss nope").json()["text"].startswith("Name an open incident")
        done = bot.driver.slash(f"dismiss {short} nightly purge").json()["text"]
        assert done == f"Dismissed incident `{short}` as a false alarm."
        wait_until(
            lambda: any(
                ":zzz:" in c.blocks[0]["text"]["text"] for c in bot.slack.calls_to("chat.update")
            ),
            what="the alert shows the dismissal",
        )
        trail = bot.store.audit.trail()
        assert [e["action"] for e in trail] == ["detected", "alert posted", "dismiss"]
        assert trail[-1]["detail"] == "nightly purge"

        assert bot.driver.slash("unwatch trips").json()["text"] == "`trips` is no longer watched."
        assert "already" in bot.driver.slash("unwatch trips").json()["text"]
        assert "no table `nope`" in bot.driver.slash("watch nope").json()["text"]
        assert bot.driver.slash("watch trips", user="U0MALLORY").json()["text"].startswith("Only")
        run_sql(engine, "DELETE FROM trips WHERE id > 2500")  # unwatched: no alert
        bot.runtime.loop.last_report = None
        wait_until(lambda: (r := bot.runtime.loop.last_report) and r.full_read, what="a read")
        assert len(bot.slack.calls_to("chat.postMessage")) == 1
        assert bot.driver.slash("watch trips").json()["text"] == "`trips` is now watched."


def test_audit_of_an_unknown_incident(offline_bot: OfflineBot) -> None:
    text = offline_bot.driver.slash("audit deadbeef00").json()["text"]
    assert text == "There is no incident `deadbeef00`; `/vault audit` shows recent actions."
    assert (
        offline_bot.driver.slash("audit").json()["text"]
        == "No audit entries for recent actions yet."
    )


def test_socket_mode_dispatch_answers_without_signatures(database_url: str, tmp_path: Path) -> None:
    with FakeSlackAPI(token="xoxb-socket") as slack:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token="xoxb-socket",
            slack_app_token="xapp-socket",
            vault_database_url=database_url,
            vault_alert_channel="C0INCIDENT",
            vault_approvers=["U0ALICE"],
            vault_state_url=f"sqlite:///{tmp_path}/s.db",
            slack_api_url=slack.base_url,
        )
        settings.require_slack("socket")  # Socket Mode needs no signing secret
        runtime = build_runtime(settings, socket_mode=True)
        try:
            body = {
                "command": "/vault",
                "text": "help",
                "user_id": "U0ALICE",
                "channel_id": "C0INCIDENT",
                "team_id": "T0TEST",
                "response_url": slack.response_url("socket"),
            }
            response = runtime.app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        finally:
            runtime.close()
    assert response.status == 200
    assert "/vault find <table>" in response.body
