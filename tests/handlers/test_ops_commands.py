"""``/vault status``, ``dismiss``, ``watch`` and ``unwatch`` over signed HTTP."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from tests.core.detect_schema import STATIONS
from tests.support.sql import run_sql
from tests.support.wait import wait_until


def answers(bot: OfflineBot) -> list[str]:
    return [str(c.params.get("text")) for c in bot.slack.calls if c.kind == "response"]


def test_status_dismiss_watch_unwatch(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, watch=True) as bot:
        wait_until(lambda: bot.store.watermark(source=bot.runtime.deps.source), what="start")
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        alert = bot.slack.wait_for("chat.postMessage")[0]
        short = alert.blocks[-1]["elements"][0]["text"].split("`")[1]

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
        trail = bot.store.audit_trail()
        assert [e["action"] for e in trail] == ["dismiss"] and trail[0]["detail"] == "nightly purge"

        assert bot.driver.slash("unwatch trips").json()["text"] == "`trips` is no longer watched."
        assert "already" in bot.driver.slash("unwatch trips").json()["text"]
        assert "no table `nope`" in bot.driver.slash("watch nope").json()["text"]
        assert bot.driver.slash("watch trips", user="U0MALLORY").json()["text"].startswith("Only")
        run_sql(engine, "DELETE FROM trips WHERE id > 2500")  # unwatched: no alert
        wait_until(lambda: (r := bot.runtime.loop.last_report) and r.full_read, what="a read")
        assert len(bot.slack.calls_to("chat.postMessage")) == 1
        assert bot.driver.slash("watch trips").json()["text"] == "`trips` is now watched."
