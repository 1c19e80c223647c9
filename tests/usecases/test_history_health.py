"""History health: each condition alerts once when it starts (and once when it clears),
never once per poll."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from core.history_health import digest_kind
from core.state.common import Notification, enqueue_in, lane_of
from core.state.store import StateStore
from handlers.slack_port import SlackPort
from tests.support.slack import assert_valid_message
from tests.support.sql import run_sql
from usecases.health_watch import check_history_health, digest_note

VERSIONED = (
    "CREATE TABLE {name} (id INT PRIMARY KEY, v INT,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end)) WITH SYSTEM VERSIONING"
)
PARTITIONED = (
    "CREATE TABLE ledger (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING"
    " PARTITION BY SYSTEM_TIME LIMIT 10"
    " (PARTITION p0 HISTORY, PARTITION p1 HISTORY, PARTITION pn CURRENT)"
)


def health_posts(bot: OfflineBot) -> list[str]:
    return [c.text for c in bot.slack.calls_to("chat.postMessage") if "History health" in c.text]


def digest(bot: OfflineBot, title: str) -> tuple[str, str]:
    """(ts, latest visible text) of the digest whose header names ``title``."""
    (post,) = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if title in c.text and not c.params.get("thread_ts")
    ]
    edits = [c for c in bot.slack.calls_to("chat.update") if c.params["ts"] == post.params["ts"]]
    latest = edits[-1] if edits else post
    assert_valid_message(latest.text, latest.blocks)
    return post.params["ts"], latest.block_text


def check(bot: OfflineBot, times: int = 1) -> None:
    deps = bot.runtime.deps
    for _ in range(times):
        check_history_health(deps, SlackPort.of(deps, bot.app.client))


def test_each_condition_alerts_once_in_its_digest(database_url: str, engine: Engine) -> None:
    run_sql(
        engine,
        VERSIONED.format(name="orders"),
        "CREATE TABLE notes (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING",
        "INSERT INTO orders VALUES (1, 1), (2, 2)",
        "INSERT INTO notes VALUES (1, 1)",
        PARTITIONED,
        "INSERT INTO ledger SELECT seq, 0 FROM seq_1_to_30",
        "UPDATE ledger SET v = 1 WHERE id <= 12",  # p0 takes these 12 versions
        "UPDATE ledger SET v = 2 WHERE id <= 9",  # p0 is full: 9 more land in p1 (LIMIT 10)
    )
    with OfflineBot(database_url) as bot:
        check(bot, 3)  # three polls: conditions that hold alert once, not three times
        posts = health_posts(bot)
        assert len(posts) == 3, posts  # the server's settings, short history, partitions
        _, server = digest(bot, "history can be forged or rewritten")
        assert "secure_timestamp = NO" in server  # this server's setting
        _, short = digest(bot, "short history")
        assert "`orders`: 0.0 h of history" in short and "`notes`: 0.0 h" in short
        _, parts = digest(bot, "HISTORY partitions nearly full")
        assert "`ledger`: " in parts and "9 of LIMIT 10" in parts
        assert bot.slack.calls_to("chat.update") == []

        # Versioning dropped from a watched table: one new digest, on the next poll only.
        run_sql(engine, "ALTER TABLE notes DROP SYSTEM VERSIONING")
        check(bot, 3)
        _, dropped = digest(bot, "versioning dropped")
        assert "`notes` is no longer system-versioned" in dropped
        assert len(health_posts(bot)) == 4

        # notes, no longer versioned, has no history to be short of: it leaves that digest.
        short_ts, short = digest(bot, "short history")
        assert "`notes`" not in short and "`orders`: " in short
        assert [c.params["ts"] for c in bot.slack.calls_to("chat.update")] == [short_ts]

        # A condition that clears edits its digest in place, once: all clear.
        run_sql(engine, "ALTER TABLE ledger ADD PARTITION (PARTITION p2 HISTORY)")
        check(bot, 2)
        ts, parts = digest(bot, "HISTORY partitions nearly full")
        assert "all clear" in parts and "room in its HISTORY partitions again" in parts
        assert [c.params["ts"] for c in bot.slack.calls_to("chat.update")] == [short_ts, ts]
        assert len(health_posts(bot)) == 4
        for call in bot.slack.calls_to("chat.postMessage"):  # leaving is silent: no replies
            assert call.params["channel"] == "C0INCIDENT" and not call.params.get("thread_ts")


def test_many_tables_make_one_digest_edited_as_tables_leave(
    database_url: str, engine: Engine
) -> None:
    """A new deployment over 300 young tables: a handful of root messages, not 300; a table
    whose history grows long enough leaves the digest by an edit, not a new message."""
    for i in range(300):
        run_sql(engine, VERSIONED.format(name=f"t{i:03d}"), f"INSERT INTO t{i:03d} VALUES (1, 1)")
    with OfflineBot(database_url, vault_history_min=3600) as bot:
        check(bot)
        roots = [c for c in bot.slack.calls_to("chat.postMessage") if not c.params.get("thread_ts")]
        assert len(roots) <= 3, [c.text for c in roots]  # short history, the server's settings
        ts, short = digest(bot, "short history")
        assert "The history of 300 tables reaches back less" in short
        assert "`t000`: " in short and "… and " in short  # clipped within Block Kit limits

        bot.runtime.deps.settings.vault_history_min = 0  # every table now has enough
        check(bot)
        ts_after, short = digest(bot, "short history")
        assert ts_after == ts and "all clear" in short
        assert len(bot.slack.calls_to("chat.postMessage")) == len(roots)  # edited, not posted
        assert store_conditions(bot, "short:", active=True) == 0
        assert store_conditions(bot, "short:", active=False) == 300  # each one remembered


def store_conditions(bot: OfflineBot, prefix: str, *, active: bool) -> int:
    known = bot.store.conditions.known(source=bot.runtime.deps.source, prefix=prefix)
    standing = bot.store.conditions.active(source=bot.runtime.deps.source)
    return len({k for k in known if (k in standing) == active})


def test_the_leader_checks_on_its_own_and_a_restart_does_not_repeat(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    run_sql(engine, VERSIONED.format(name="orders"), "INSERT INTO orders VALUES (1, 1)")
    state = f"sqlite:///{tmp_path}/state.db"
    settings = {"vault_health_interval": 0.5, "vault_state_url": state}
    with OfflineBot(database_url, watch=True, **settings) as bot:
        wait_until(lambda: len(health_posts(bot)) >= 2, what="the health digests")
        wait_until(
            lambda: bot.runtime.loop.chores[-1].next_at > 0 and len(health_posts(bot)) == 2,
            what="more checks",
        )
        time.sleep(2.0)  # four more checks
        assert len(health_posts(bot)) == 2
    with OfflineBot(database_url, watch=True, **settings) as bot:
        time.sleep(2.0)
        assert health_posts(bot) == []


def replies(bot: OfflineBot, ts: str) -> list[Any]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]


def test_a_table_joining_a_posted_digest_is_named_in_one_reply(
    database_url: str, engine: Engine
) -> None:
    """An edit does not notify: a table joining a digest already posted is also named in a
    reply under it, broadcast to the channel when the kind is severe."""
    run_sql(engine, VERSIONED.format(name="orders"), "INSERT INTO orders VALUES (1, 1)")
    for name in ("notes", "items"):  # implicit periods: DROP SYSTEM VERSIONING as is
        run_sql(engine, f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING")
    with OfflineBot(database_url) as bot:
        check(bot)
        ts, _ = digest(bot, "short history")
        assert replies(bot, ts) == []  # the fresh post notified by itself

        run_sql(engine, VERSIONED.format(name="late"), "INSERT INTO late VALUES (1, 1)")
        check(bot, 2)
        _, short = digest(bot, "short history")
        assert "`late`: " in short
        (reply,) = replies(bot, ts)
        assert "short history" in reply.text and "`late`" in reply.block_text
        assert "`orders`" not in reply.block_text  # only what joined
        assert not reply.params.get("reply_broadcast")  # a plain thread reply

        run_sql(engine, "ALTER TABLE notes DROP SYSTEM VERSIONING")
        check(bot)
        dropped_ts, _ = digest(bot, "versioning dropped")
        run_sql(engine, "ALTER TABLE items DROP SYSTEM VERSIONING")
        check(bot)
        _, dropped = digest(bot, "versioning dropped")
        assert "`items` is no longer" in dropped and "`notes` is no longer" in dropped
        (severe,) = replies(bot, dropped_ts)
        assert "`items` is no longer system-versioned" in severe.block_text
        assert "`notes`" not in severe.block_text
        assert severe.params.get("reply_broadcast") is True  # the channel sees it
        assert_valid_message(severe.text, severe.blocks)


def test_three_hundred_tables_joining_at_once_make_one_reply(
    database_url: str, engine: Engine
) -> None:
    run_sql(engine, VERSIONED.format(name="origin"), "INSERT INTO origin VALUES (1, 1)")
    with OfflineBot(database_url) as bot:
        check(bot)
        ts, _ = digest(bot, "short history")
        for i in range(300):
            run_sql(
                engine, VERSIONED.format(name=f"t{i:03d}"), f"INSERT INTO t{i:03d} VALUES (1, 1)"
            )
        check(bot)
        (reply,) = replies(bot, ts)
        assert "`t000`" in reply.block_text and "… and 290 more" in reply.block_text
        assert_valid_message(reply.text, reply.blocks)
        _, short = digest(bot, "short history")
        assert "301 tables" in short


def test_a_dropped_or_unwatched_table_leaves_the_digest(database_url: str, engine: Engine) -> None:
    """A condition whose table no check reports any more (dropped, unwatched) clears; the
    digest reaches all clear."""
    run_sql(engine, VERSIONED.format(name="orders"), "INSERT INTO orders VALUES (1, 1)")
    run_sql(engine, VERSIONED.format(name="notes"), "INSERT INTO notes VALUES (1, 1)")
    with OfflineBot(database_url) as bot:
        check(bot)
        ts, _ = digest(bot, "short history")
        run_sql(engine, "DROP TABLE orders")
        check(bot)
        _, short = digest(bot, "short history")
        assert "`orders`" not in short and "`notes`: " in short
        assert bot.driver.slash("unwatch notes").status == 200
        check(bot)
        ts_after, short = digest(bot, "short history")
        assert ts_after == ts and "all clear" in short
        assert store_conditions(bot, "short:", active=True) == 0
        assert replies(bot, ts) == []  # leaving is a silent edit


def test_digest_lanes_of_a_long_source_stay_apart(database_url: str) -> None:
    """A long source must not make two kinds share a lane (coalescing one kind's edits
    would mark the other's as sent)."""
    source = "mariadb+mariadbconnector://vault@" + "db-replica-" * 12 + ".example.com/shop"
    with OfflineBot(database_url) as bot:
        store = bot.store
        with store.engine.begin() as conn:
            for kind in ("short", "versioning"):
                enqueue_in(conn, None, Notification("digest", {"source": source, "kind": kind}))
        lanes = {
            lane_of(None, Notification("digest", {"source": source, "kind": k}))
            for k in ("short", "versioning")
        }
        assert len(lanes) == 2 and all(len(lane) <= 96 for lane in lanes)
        first = store.outbox.claim_next()
        assert first is not None and first.payload["kind"] == "short"
        assert store.outbox.coalesce_lane(first) == 0  # the other kind stays pending
        store.outbox.mark_sent(first)
        second = store.outbox.claim_next()
        assert second is not None and second.payload["kind"] == "versioning"


def test_the_health_check_leaves_drill_conditions_alone(database_url: str, engine: Engine) -> None:
    """Drills record their conditions in their own pass: a health check that does not
    evaluate them must not clear them."""
    run_sql(engine, VERSIONED.format(name="orders"), "INSERT INTO orders VALUES (1, 1)")
    with OfflineBot(database_url) as bot:
        deps = bot.runtime.deps
        bot.store.conditions.settle_all(
            source=deps.source,
            findings=[("drill:orders", True, "`orders`: cannot restore")],
            note=lambda kind: digest_note(deps, kind),
            group=digest_kind,
            evaluated={"drill"},
        )
        check(bot)
        assert store_conditions(bot, "drill:", active=True) == 1
        assert store_conditions(bot, "short:", active=True) == 1


def test_a_store_from_before_listing_gains_the_column_and_stays_quiet(tmp_path: Path) -> None:
    """Upgrading: ``fv_digests`` gains ``listed``; a digest posted before it has no known
    listing, so its next edit adds no reply (it would name every table as new)."""
    store = StateStore.from_url(f"sqlite:///{tmp_path}/old.db")
    try:
        store.create_tables()
        with store.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE fv_digests DROP COLUMN listed"))
            conn.execute(
                sa.text(
                    "INSERT INTO fv_digests (source, kind, channel, ts, updated_at)"
                    " VALUES ('s', 'short', 'C1', '1.0', '2025-01-01 00:00:00')"
                )
            )
        store.create_tables()
        posted = store.digests.posted(source="s", kind="short")
        assert posted is not None and posted.listed is None
        store.digests.remember(source="s", kind="short", channel="C1", ts="1.0", listed=[("", "k")])
        again = store.digests.posted(source="s", kind="short")
        assert again is not None and again.listed == frozenset({("", "k")})
    finally:
        store.dispose()
