"""Faults injected for real: killed database connections, a replica that dies."""

from __future__ import annotations

import contextlib
import time

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from core.db import make_engine
from tests.conftest import fresh_database
from tests.core.detect_schema import STATIONS
from tests.support.flows import approve, find_and_preview, request
from tests.support.sql import run_sql


def kill_sessions(engine: Engine, database: str) -> int:
    """KILL every connection to ``database`` except our own."""
    with engine.connect() as conn:
        me = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
        ids = (
            conn.execute(
                sa.text(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :d AND ID <> :me"
                ),
                {"d": database, "me": me},
            )
            .scalars()
            .all()
        )
        for session in ids:
            with contextlib.suppress(sa.exc.DBAPIError):  # it may have ended by itself
                conn.execute(sa.text(f"KILL CONNECTION {int(session)}"))
    return len(ids)


def test_watcher_survives_killed_connections_and_misses_nothing(
    database_url: str, engine: Engine
) -> None:
    run_sql(engine, *STATIONS)
    database = str(make_url(database_url).database)
    with OfflineBot(database_url, watch=True) as bot:
        killed = 0
        for _ in range(5):  # keep killing while the watcher polls
            killed += kill_sessions(engine, database)
            time.sleep(0.1)
        assert killed > 0
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        kill_sessions(engine, database)
        run_sql(engine, "DELETE FROM trips WHERE id > 2990")  # a second, small event
        alert = bot.slack.wait_for("chat.postMessage", timeout=20)[0]
        assert "100 rows deleted from stations" in alert.text
        seen = wait_until(
            lambda: (
                len(
                    bot.store.events.seen(
                        source=bot.runtime.deps.source,
                        since=bot.store.events.watermark(source=bot.runtime.deps.source)
                        - __import__("datetime").timedelta(hours=1),
                    )
                )
                >= 3
            ),
            what="every event recorded",
        )
        assert seen


def test_lease_hands_over_when_the_holder_dies(
    database_url: str, engine: Engine, second_database_url: str
) -> None:
    run_sql(engine, *STATIONS)
    common = {"vault_state_url": second_database_url, "vault_lease_ttl": 2}
    with (
        OfflineBot(database_url, watch=True, **common) as a,
        OfflineBot(database_url, watch=True, **common) as b,
    ):
        leader = wait_until(
            lambda: next((x for x in (a, b) if x.runtime.loop.leader), None), what="a leader"
        )
        follower = b if leader is a else a
        assert not follower.runtime.loop.leader
        leader.runtime.loop.halt()  # dies without releasing its lease
        died = time.monotonic()
        wait_until(lambda: follower.runtime.loop.leader, timeout=10, what="the handover")
        handover = time.monotonic() - died
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        wait_until(
            lambda: follower.slack.calls_to("chat.postMessage"), what="the new leader alerts"
        )
    assert handover < 5


def test_separate_deployments_sharing_a_state_store_each_lead_their_own(
    database_url: str, engine: Engine, second_database_url: str, server_url: URL
) -> None:
    """Two deployments watching different databases, one state store: both watch at once
    (each holds the lease named after its own database) and each opens its own incident.
    (Which process posts an alert is not asserted: every process delivers the shared
    outbox, see "Many databases" in docs/HOW_IT_WORKS.md.)"""
    run_sql(engine, *STATIONS)
    with fresh_database(server_url, "fvother") as other_url:
        other = make_engine(other_url)
        try:
            run_sql(other, *STATIONS)
            common = {"vault_state_url": second_database_url, "vault_lease_ttl": 2}
            with (
                OfflineBot(database_url, watch=True, **common) as a,
                OfflineBot(other_url, watch=True, **common) as b,
            ):
                # Entering waited for each watcher's first look, so each took its own lease;
                # a 2 s lease lapses between ticks of a loaded machine, and is taken again.
                wait_until(
                    lambda: a.runtime.loop.leader and b.runtime.loop.leader,
                    what="both deployments leading at once",
                )
                assert a.runtime.loop.lease != b.runtime.loop.lease
                assert a.runtime.loop.lease == f"watcher:{a.runtime.deps.source}"
                run_sql(other, "DELETE FROM stations WHERE city = 'Mumbai'")
                run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
                for bot in (a, b):  # each leader's watcher opened its own database's incident
                    (opened,) = wait_until(
                        lambda bot=bot: bot.store.incidents.open(source=bot.runtime.deps.source),
                        timeout=20,
                        what="an incident in each deployment's database",
                    )
                    assert opened.table == "stations"

                def alerts() -> list[Call]:
                    return [
                        *a.slack.calls_to("chat.postMessage"),
                        *b.slack.calls_to("chat.postMessage"),
                    ]

                wait_until(lambda: len(alerts()) >= 2, timeout=20, what="both alerts")
                assert all("100 rows deleted from stations" in c.text for c in alerts())
        finally:
            other.dispose()


def test_restore_outcome_survives_a_slack_outage(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url, watch=True) as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        bot.slack.fail("chat.postMessage", 500, times=9)  # beyond the client's own retries
        bot.slack.fail("chat.update", 500, times=9)
        approve(bot, plan_id, timeout=60)  # runs despite Slack (each failing call is retried)
        outcome = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text],
            timeout=30,
            what="the outcome delivered after the outage",
        )
    assert len(outcome) == 1
