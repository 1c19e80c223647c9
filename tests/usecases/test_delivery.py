"""Delivery that never goes silent: one destination's trouble never holds back another's,
permanent refusals become dead letters (shown, counted, degrading /healthz) or use their
fallback, and a 429 storm loses and duplicates nothing."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from bot.server import HEALTH_PATH
from tests.core.detect_schema import STATIONS
from tests.support.sql import run_sql

OTHER = (
    "CREATE TABLE parcels (id INT PRIMARY KEY, label VARCHAR(20),"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING",
    "INSERT INTO parcels SELECT seq, CONCAT('p', seq) FROM seq_1_to_500",
)


def roots(bot: OfflineBot) -> list[Call]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if not c.params.get("thread_ts") and c.blocks and "rows" in c.blocks[0]["text"]["text"]
    ]


def health(bot: OfflineBot) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(bot.server.url + HEALTH_PATH, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_another_incidents_alert_is_not_held_back_by_a_dead_destination(
    database_url: str, engine: Engine
) -> None:
    run_sql(engine, *STATIONS, *OTHER)
    with OfflineBot(database_url, watch=True) as bot:
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        wait_until(lambda: roots(bot), what="the first alert")
        bot.slack.refuse("chat.update", "msg_too_long")  # every update of any alert, for good
        run_sql(engine, "DELETE FROM stations WHERE id BETWEEN 1 AND 99")  # grows it: an update
        wait_until(lambda: bot.store.outbox.dead_count() > 0, what="a dead letter")
        code, said = health(bot)
        assert code == 503 and said["status"] == "degraded"
        assert any("undeliverable" in str(r) for r in said["reasons"])  # type: ignore[union-attr]
        started = time.monotonic()
        run_sql(engine, "DELETE FROM parcels WHERE id <= 300")
        wait_until(lambda: len(roots(bot)) >= 2, timeout=5, what="the second alert within 5 s")
        assert time.monotonic() - started < 5
        bot.driver.slash("status")
        status = wait_until(
            lambda: [c for c in bot.slack.calls if c.kind == "response" and c.blocks],
            what="the status",
        )[-1]
        assert "Undeliverable messages:* 1" in status.blocks[0]["text"]["text"]
        assert "msg_too_long" in status.blocks[0]["text"]["text"]
        metrics = bot.runtime.deps.metrics.render().decode()
        assert "flightvault_dead_letters 1.0" in metrics


def test_a_deleted_alert_is_posted_afresh(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, watch=True) as bot:
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        (first,) = wait_until(lambda: roots(bot), what="the alert")
        assert first.params["channel"] == "C0INCIDENT"
        bot.slack.refuse("chat.update", "message_not_found", times=1)  # someone deleted it
        run_sql(engine, "DELETE FROM stations WHERE id BETWEEN 1 AND 99")
        fresh = wait_until(lambda: roots(bot)[1:], what="a fresh alert")[-1]
        assert fresh.params["channel"] == "C0INCIDENT"
        assert bot.store.outbox.dead_count() == 0
        wait_until(  # the audit line is written just after the fresh post
            lambda: any(
                "again" in e["detail"] and "message_not_found" in e["detail"]
                for e in bot.store.audit.trail(limit=None)
            ),
            what="the audit line saying why the alert was posted again",
        )


def test_a_429_storm_loses_and_duplicates_nothing(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS, *OTHER)
    with OfflineBot(database_url, watch=True) as bot:
        bot.slack.fail("chat.postMessage", 429, times=12, retry_after=1)
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        run_sql(engine, "DELETE FROM parcels WHERE id <= 300")
        wait_until(
            lambda: bot.store.outbox.pending_count() == 0 and len(roots(bot)) >= 2,
            timeout=60,
            what="both alerts after the storm",
        )
        time.sleep(1)  # anything sent twice would arrive by now
        headers = sorted(c.blocks[0]["text"]["text"] for c in roots(bot))
    assert headers == [
        ":rotating_light: 100 rows deleted from stations",
        ":rotating_light: 300 rows deleted from parcels",
    ]
