"""Waking on the replication stream (``VAULT_WAKE``), on a private binlog-enabled server.

The shared server runs with the binary log off, so these tests start their own
``mariadbd`` and never touch the shared one's settings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.private_server import PrivateServer
from core.db import make_engine
from core.wakeup import unavailable
from tests.support.sql import run_sql

TABLE = (
    "CREATE TABLE orders (id INT PRIMARY KEY, v INT NOT NULL,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING"
)
SLOW_PROBE = 5.0  # polling alone would take up to this long to notice anything


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    with PrivateServer(binlog=True) as private:
        yield private


@pytest.fixture
def engine(server: PrivateServer) -> Iterator[Engine]:
    engine = make_engine(server.url.render_as_string(hide_password=False))
    run_sql(engine, "DROP TABLE IF EXISTS orders", TABLE)
    run_sql(engine, "INSERT INTO orders SELECT seq, seq FROM seq_1_to_400")
    yield engine
    engine.dispose()


def url(server: PrivateServer) -> str:
    return server.url.render_as_string(hide_password=False)


def alert_after_delete(bot: OfflineBot, engine: Engine) -> float:
    started = time.monotonic()
    run_sql(engine, "DELETE FROM orders WHERE id <= 300")
    bot.slack.wait_for("chat.postMessage", timeout=SLOW_PROBE * 3)
    return time.monotonic() - started


def test_the_stream_wakes_the_watcher_long_before_the_next_probe(
    server: PrivateServer, engine: Engine
) -> None:
    with OfflineBot(url(server), watch=True, vault_probe_interval=SLOW_PROBE) as bot:
        assert bot.runtime.wake is not None and bot.runtime.wake.healthy
        waited = alert_after_delete(bot, engine)
    assert waited < 1.5, f"alerted after {waited:.2f} s: the stream did not wake the watcher"


def test_poll_mode_ignores_the_stream(server: PrivateServer, engine: Engine) -> None:
    """The same server with VAULT_WAKE=poll: the alert waits for the (slow) probe, which
    shows the fast alert above came from the stream."""
    with OfflineBot(
        url(server), watch=True, vault_probe_interval=SLOW_PROBE / 2, vault_wake="poll"
    ) as bot:
        assert bot.runtime.wake is None
        waited = alert_after_delete(bot, engine)
    assert waited >= 0.5, f"alerted after {waited:.2f} s without the stream"


def test_without_the_log_or_the_grant_it_polls_and_says_why(
    server: PrivateServer, database_url: str
) -> None:
    shared = make_engine(database_url)
    try:
        with shared.connect() as conn:
            log_bin = conn.execute(sa.text("SELECT @@log_bin")).scalar()
        if not log_bin:
            assert unavailable(shared) == "the binary log is off"
    finally:
        shared.dispose()
    root = make_engine(url(server))
    run_sql(
        root,
        "CREATE OR REPLACE USER 'watcher'@'127.0.0.1' IDENTIFIED BY 'pw'",
        "GRANT SELECT, BINLOG MONITOR ON *.* TO 'watcher'@'127.0.0.1'",
    )
    root.dispose()
    limited = make_engine(f"mariadb+mariadbconnector://watcher:pw@127.0.0.1:{server.port}/test")
    try:
        assert unavailable(limited) == "the account lacks REPLICATION SLAVE"
        with OfflineBot(
            f"mariadb+mariadbconnector://watcher:pw@127.0.0.1:{server.port}/test", watch=True
        ) as bot:
            assert bot.runtime.wake is None  # auto: falls back to polling
    finally:
        limited.dispose()


def test_a_stream_that_cannot_reconnect_falls_back_to_polling(
    server: PrivateServer, engine: Engine
) -> None:
    """The account loses REPLICATION SLAVE and its link is cut: the stream cannot come back,
    says so, and the probe alerts instead."""
    run_sql(
        engine,
        "CREATE OR REPLACE USER 'follower'@'127.0.0.1' IDENTIFIED BY 'pw'",
        "GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'follower'@'127.0.0.1'",
    )
    follower = f"mariadb+mariadbconnector://follower:pw@127.0.0.1:{server.port}/test"
    with OfflineBot(follower, watch=True) as bot:
        wake = bot.runtime.wake
        assert wake is not None and wake.healthy
        run_sql(engine, "REVOKE REPLICATION SLAVE ON *.* FROM 'follower'@'127.0.0.1'")
        with engine.connect() as conn:  # the server ends the replication connection
            ids = conn.execute(
                sa.text(
                    "SELECT id FROM information_schema.PROCESSLIST"
                    " WHERE COMMAND LIKE 'Binlog%' AND USER = 'follower'"
                )
            ).scalars()
            for pid in list(ids):
                conn.execute(sa.text(f"KILL {int(pid)}"))
        deadline = time.monotonic() + 5
        while wake.healthy and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not wake.healthy, "a stream that cannot reconnect must stop claiming to follow"
        waited = alert_after_delete(bot, engine)  # the probe (0.1 s default) still alerts
        assert waited < 3


def test_a_write_the_log_does_not_name_is_found_by_the_slow_probe(
    server: PrivateServer, engine: Engine
) -> None:
    """``sql_log_bin = 0`` keeps a write out of the binary log: while following, the probe
    still runs once a second, so the alert comes in seconds, not at the safety read."""
    with OfflineBot(url(server), watch=True) as bot:
        assert bot.runtime.wake is not None and bot.runtime.wake.healthy
        started = time.monotonic()
        with engine.connect() as conn:
            conn.execute(sa.text("SET SESSION sql_log_bin = 0"))
            conn.execute(sa.text("DELETE FROM orders WHERE id <= 300"))
            conn.commit()
        bot.slack.wait_for("chat.postMessage", timeout=10)
        waited = time.monotonic() - started
    assert waited < 4, f"alerted after {waited:.2f} s"


def followers(engine: Engine) -> int:
    """Replication connections the server is serving."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                    " WHERE COMMAND LIKE 'Binlog Dump%'"
                )
            ).scalar_one()
        )


def test_only_the_process_leading_the_watching_follows_the_log(
    server: PrivateServer, engine: Engine, second_database_url: str
) -> None:
    """Two replicas: the one without the lease holds no replication connection (the stream
    downloads the whole log). When the leader dies, the other takes the lease, follows,
    and the stream wakes it; the dead one lets go of its link at the next event."""
    common = {
        "vault_state_url": second_database_url,
        "vault_lease_ttl": 2 * SLOW_PROBE,  # the shortest the settings allow
        "vault_probe_interval": SLOW_PROBE,
    }
    with (
        OfflineBot(url(server), watch=True, **common) as first,
        OfflineBot(url(server), watch=True, **common) as second,
    ):
        assert first.runtime.loop.leader and not second.runtime.loop.leader
        assert first.runtime.wake is not None and first.runtime.wake.healthy
        assert second.runtime.wake is not None and not second.runtime.wake.healthy
        assert followers(engine) == 1
        first.runtime.loop.halt()  # dies without releasing its lease
        wait_until(lambda: second.runtime.wake.healthy, timeout=30, what="the new leader follows")
        waited = alert_after_delete(second, engine)
        assert waited < 1.5, f"alerted after {waited:.2f} s: the stream did not wake the new leader"
        wait_until(lambda: followers(engine) == 1, timeout=5, what="the old link closed")


def test_a_mixed_format_log_is_not_followed() -> None:
    """MIXED logs a plain DELETE as a statement, naming no table: polling it is."""
    with PrivateServer(binlog=True, extra_args=["--binlog-format=MIXED"]) as mixed:
        engine = make_engine(url(mixed))
        try:
            assert unavailable(engine) == (
                "binlog_format is MIXED, not ROW, so writes do not name their tables"
            )
        finally:
            engine.dispose()
