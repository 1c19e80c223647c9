"""Ack latency under load: 50 concurrent slash commands and 50 concurrent button clicks.

Runs the whole bot in-process over real signed HTTP (waitress) against the Web
API stand-in, on a damaged 1,000-row table with a requested restore plan, and
fires every request at once: the commands (finder, status, help, time travel)
and the clicks (approvals of the same plan by 50 different approvers, so at
most one may run the restore). Prints ack latency percentiles.

    .venv/bin/python -m bench.load [--commands 50] [--clicks 50]
"""

from __future__ import annotations

import argparse
import statistics
import threading
from dataclasses import dataclass

import sqlalchemy as sa

from bench.common import scratch_database
from bot.ids import Action
from bot.offline.driver import Reply
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from core.approvals import OPEN, PlanState

APPROVERS = [f"U0LOAD{i:03d}" for i in range(200)]
COMMANDS = ["find stations", "status", "help", "at stations 1s ago"]
STATIONS_DDL = (
    "CREATE TABLE stations (id INT PRIMARY KEY, code CHAR(6) NOT NULL, name VARCHAR(60) NOT NULL,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING"
)


@dataclass(frozen=True)
class LoadResult:
    commands: list[Reply]
    clicks: list[Reply]
    plan_id: str

    @property
    def all(self) -> list[Reply]:
        return self.commands + self.clicks


def prepare(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(STATIONS_DDL))
        conn.execute(
            sa.text(
                "INSERT INTO stations SELECT seq, CONCAT('S', seq),"
                " CONCAT('Station ', seq) FROM seq_1_to_1000"
            )
        )
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM stations WHERE id % 10 = 0"))


def requested_plan(bot: OfflineBot) -> str:
    bot.driver.slash("find stations", user=APPROVERS[0])
    found = wait_until(lambda: posted(bot, "Restore point"), 15, "the finder's answer")
    value = next(
        e["value"] for b in found[0].blocks if b["type"] == "actions" for e in b["elements"]
    )
    bot.driver.click(Action.PREVIEW_RESTORE.value, value, user=APPROVERS[0])
    shown = wait_until(lambda: posted(bot, "Restore preview"), 15, "the preview")
    plan_id = next(
        e["value"] for b in shown[0].blocks if b["type"] == "actions" for e in b["elements"]
    )
    bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user=APPROVERS[0])
    wait_until(lambda: state(bot, plan_id) is PlanState.REQUESTED, 15, "the request")
    return plan_id


def run_load(bot: OfflineBot, commands: int = 50, clicks: int = 50) -> LoadResult:
    plan_id = requested_plan(bot)
    start = threading.Barrier(commands + clicks)
    command_replies: list[Reply] = []
    click_replies: list[Reply] = []

    def command(i: int) -> None:
        start.wait()
        command_replies.append(bot.driver.slash(COMMANDS[i % len(COMMANDS)], user=APPROVERS[i]))

    def click(i: int) -> None:
        start.wait()
        click_replies.append(
            bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=APPROVERS[1 + i])
        )

    threads = [threading.Thread(target=command, args=(i,)) for i in range(commands)]
    threads += [threading.Thread(target=click, args=(i,)) for i in range(clicks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return LoadResult(command_replies, click_replies, plan_id)


def posted(bot: OfflineBot, text: str) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if text in c.text]


def state(bot: OfflineBot, plan_id: str) -> PlanState | None:
    plan = bot.store.plans.get(plan_id)
    return plan.state if plan else None


def settled(bot: OfflineBot, plan_id: str) -> None:
    """Wait until the approved plan has an outcome, so the count of restores is final."""
    unsettled = (None, *OPEN, PlanState.EXECUTING)
    wait_until(lambda: state(bot, plan_id) not in unsettled, 30, "the restore's outcome")


def percentiles(replies: list[Reply]) -> str:
    times = sorted(r.elapsed * 1000 for r in replies)
    cuts = statistics.quantiles(times, n=100)
    return (
        f"p50 {cuts[49]:.0f} ms, p95 {cuts[94]:.0f} ms, p99 {cuts[98]:.0f} ms, "
        f"max {times[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--clicks", type=int, default=50)
    args = parser.parse_args()
    with scratch_database("fv_bench_load") as engine:
        prepare(engine)
        url = engine.url.render_as_string(hide_password=False)
        with OfflineBot(url, vault_approvers=APPROVERS) as bot:
            result = run_load(bot, args.commands, args.clicks)
            statuses = sorted({r.status for r in result.all})
            settled(bot, result.plan_id)  # the acks come before the restore finishes
            executed = [e for e in bot.store.audit.trail(limit=1000) if e["action"] == "executed"]
    print(
        f"{args.commands} slash commands and {args.clicks} button clicks fired at once over "
        "signed HTTP (waitress, 32 threads):"
    )
    print(f"  commands: {percentiles(result.commands)}")
    print(f"  clicks:   {percentiles(result.clicks)}")
    print(
        f"  all:      {percentiles(result.all)}; within 3 s: "
        f"{sum(r.elapsed < 3 for r in result.all)}/{len(result.all)}"
    )
    print(f"  HTTP statuses: {statuses}; restores executed: {len(executed)}")


if __name__ == "__main__":
    main()
