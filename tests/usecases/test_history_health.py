"""History health: each condition alerts once when it starts (and once when it clears),
never once per poll."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from handlers.slack_port import SlackPort
from tests.support.sql import run_sql
from usecases.health_watch import check_history_health

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


def test_each_condition_alerts_once(database_url: str, engine: Engine) -> None:
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
        deps, client = bot.runtime.deps, bot.app.client
        for _ in range(3):  # three polls: conditions that hold alert once, not three times
            check_history_health(deps, SlackPort.of(deps, client))
        first = Counter(text.split(":")[0] for text in health_posts(bot))
        posts = health_posts(bot)
        assert len(posts) == len(set(posts)), "one alert per condition"
        assert any("secure_timestamp = NO" in p for p in posts)  # this server's setting
        assert any("history of `orders` reaches back only" in p for p in posts)
        assert any("history of `notes` reaches back only" in p for p in posts)
        assert any(
            "`ledger` is partitioned BY SYSTEM_TIME" in p and "9 of LIMIT 10" in p for p in posts
        )
        assert not any("no longer system-versioned" in p for p in posts)
        assert first["History health"] == len(posts)

        # Versioning dropped from a watched table: alerted once, on the next poll only.
        run_sql(engine, "ALTER TABLE notes DROP SYSTEM VERSIONING")
        for _ in range(3):
            check_history_health(deps, SlackPort.of(deps, client))
        dropped = [p for p in health_posts(bot) if "`notes` is no longer system-versioned" in p]
        assert len(dropped) == 1

        # A condition that clears says so once: more HISTORY partitions for the ledger.
        run_sql(engine, "ALTER TABLE ledger ADD PARTITION (PARTITION p2 HISTORY)")
        for _ in range(2):
            check_history_health(deps, SlackPort.of(deps, client))
        assert (
            health_posts(bot).count(
                "History health resolved: `ledger` has room in its HISTORY partitions again"
            )
            == 1
        )
        every = health_posts(bot)
        assert len(every) == len(set(every))
        for call in bot.slack.calls_to("chat.postMessage"):
            assert call.params["channel"] == "C0INCIDENT" and not call.params.get("thread_ts")


def test_the_leader_checks_on_its_own_and_a_restart_does_not_repeat(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    run_sql(engine, VERSIONED.format(name="orders"), "INSERT INTO orders VALUES (1, 1)")
    state = f"sqlite:///{tmp_path}/state.db"
    settings = {"vault_health_interval": 0.5, "vault_state_url": state}
    with OfflineBot(database_url, watch=True, **settings) as bot:
        wait_until(lambda: len(health_posts(bot)) >= 2, what="the health alerts")
        wait_until(
            lambda: bot.runtime.loop.chores[-1].next_at > 0 and len(health_posts(bot)) == 2,
            what="more checks",
        )
        time.sleep(2.0)  # four more checks
        assert len(health_posts(bot)) == 2
    with OfflineBot(database_url, watch=True, **settings) as bot:
        time.sleep(2.0)
        assert health_posts(bot) == []
