"""No Web API call and no slow query before the ack: with Slack's Web API answering 3.5 s
late, every subcommand still gets its HTTP 200 within Slack's 3 seconds."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from tests.core.detect_schema import STATIONS
from tests.support.sql import run_sql

SLOW = 3.5
SUBCOMMANDS = (
    "help",
    "find stations since 1h",
    "at stations 1h",
    "audit",
    "status",
    "dismiss 00000000",
    "watch stations",
    "unwatch stations",
    "freeze stations",
    "unfreeze stations",
    "drill stations",
    "report",
)
METHODS = (
    "usergroups.users.list",
    "chat.postMessage",
    "chat.update",
    "chat.delete",
    "files.getUploadURLExternal",
    "users.info",
    "conversations.info",
)


@pytest.mark.parametrize("text", SUBCOMMANDS, ids=lambda t: t.split()[0])
def test_every_subcommand_acks_in_time_when_slack_is_slow(
    database_url: str, engine: Engine, text: str
) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, vault_approvers=["U0ALICE", "S0ONCALL"]) as bot:
        bot.slack.usergroups["S0ONCALL"] = ["U0CAROL"]
        for method in METHODS:
            bot.slack.slow(method, SLOW, times=50)
        reply = bot.driver.slash(text, user="U0CAROL")  # an approver through a user group
        assert reply.status == 200, reply.body
        assert reply.elapsed < 3, f"{text!r} acked after {reply.elapsed:.2f} s"


def test_a_group_member_is_let_through_after_the_ack(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, vault_approvers=["U0ALICE", "S0ONCALL"]) as bot:
        bot.slack.usergroups["S0ONCALL"] = ["U0CAROL"]
        first = bot.driver.slash("watch stations", user="U0CAROL")
        assert first.json()["text"].startswith("Checking")
        wait_until(
            lambda: (
                [c for c in bot.slack.calls if "is now watched" in str(c.params.get("text"))]
                or [c for c in bot.slack.calls if "already was" in str(c.params.get("text"))]
            ),
            what="the deferred answer",
        )
        outsider = bot.driver.slash("unwatch stations", user="U0MALLORY")  # group now known
        assert outsider.json()["text"].startswith("Only people listed in VAULT_APPROVERS")


def test_heavy_reads_run_on_their_own_pool(database_url: str, engine: Engine) -> None:
    """Finders and previews queue on ``readers``; ``workers`` (decisions, restores) stay free."""
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url) as bot:
        seen: list[str] = []
        readers = bot.runtime.deps.readers
        readers.submit(lambda: seen.append(threading.current_thread().name)).result()
        busy = threading.Event()
        for _ in range(8):  # more slow reads than the pool has threads
            readers.submit(busy.wait, 10)
        try:
            done = bot.runtime.deps.workers.submit(lambda: "free")
            assert done.result(timeout=2) == "free"
        finally:
            busy.set()
        assert seen and seen[0].startswith("read")
