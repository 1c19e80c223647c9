"""Detection latency: from a DELETE's commit to the alert reaching the Slack stand-in.

Builds a 1,000,000-row versioned table with 1,000,000 history rows (one
UPDATE of every row, two days ago), starts the whole bot in-process against
the Web API stand-in, commits 20 deletions (20,000 rows each, at random
phases of the poll cycle) and measures each one's commit-to-alert time. The
same run repeats the deletions with a plain poller (a full history read
every second, no cheap probe) as the baseline. Also measures the database
time an idle probe and an idle full read cost.

    .venv/bin/python -m bench.detect [--deletions 20] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import median, ms, orders_ddl, scratch_database
from bot.offline.harness import OfflineBot

DAY = 86_400


def build(engine: Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(orders_ddl("orders")))
        conn.execute(sa.text("SET timestamp = :t"), {"t": time.time() - 3 * DAY})
        conn.execute(
            sa.text(
                "INSERT INTO orders (id, customer, amount)"
                f" SELECT seq, seq % 9973, (seq % 100000) / 100 FROM seq_1_to_{rows}"
            )
        )
        conn.execute(sa.text("SET timestamp = :t"), {"t": time.time() - 2 * DAY})
        conn.execute(sa.text("UPDATE orders SET amount = amount + 1"))
        conn.execute(sa.text("SET timestamp = DEFAULT"))


def measure(
    url: str, engine: Engine, first_id: int, deletions: int, **settings: object
) -> list[float]:
    """Latency of each deletion, seconds."""
    rng = random.Random(first_id)
    latencies = []
    with OfflineBot(url, watch=True, vault_group_window=0, **settings) as bot:
        source = bot.runtime.deps.source
        while bot.store.events.watermark(source=source) is None:
            time.sleep(0.05)
        time.sleep(2.5)  # leave the probe's hot period after start-up
        for i in range(deletions):
            time.sleep(rng.uniform(0.2, 1.2))  # land at a random phase of the poll cycle
            low = first_id + i * 20_000
            seen = len(bot.slack.calls_to("chat.postMessage"))
            with engine.begin() as conn:
                conn.execute(
                    sa.text("DELETE FROM orders WHERE id BETWEEN :a AND :b"),
                    {"a": low, "b": low + 19_999},
                )
            committed = time.monotonic()
            (*_, alert) = bot.slack.wait_for("chat.postMessage", seen + 1, timeout=30)
            latencies.append(alert.at - committed)
    return latencies


def idle_costs(url: str, runs: int = 50) -> tuple[float, float]:
    """Median seconds of one idle probe and one idle full read."""
    with OfflineBot(url, watch=False) as bot:
        watcher = bot.runtime.loop.watcher
        watcher.poll()  # bootstrap
        watcher.poll()
        probes, reads = [], []
        for _ in range(runs):
            start = time.perf_counter()
            watcher.probe()
            probes.append(time.perf_counter() - start)
            start = time.perf_counter()
            watcher.poll()
            reads.append(time.perf_counter() - start)
    return median(probes), median(reads)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--deletions", type=int, default=20)
    args = parser.parse_args()
    with scratch_database("fv_bench_detect") as engine:
        url = engine.url.render_as_string(hide_password=False)
        started = time.perf_counter()
        build(engine, args.rows)
        print(
            f"built {args.rows:,} rows + {args.rows:,} history rows in "
            f"{time.perf_counter() - started:.1f} s"
        )
        ours = measure(url, engine, 1, args.deletions)
        plain = measure(
            url,
            engine,
            1 + args.deletions * 20_000,
            args.deletions,
            vault_probe_interval=1.0,
            vault_poll_interval=1.0,
        )
        probe, read = idle_costs(url)
    print(f"{args.deletions} deletions of 20,000 rows each, commit -> alert at the Slack stand-in:")
    print(
        f"  FlightVault (probe 0.1 s, full read >= every 1 s): median {ms(median(ours))}, "
        f"p95 {ms(p95(ours))}, max {ms(max(ours))}"
    )
    print(
        f"  baseline (full read every 1 s, no probe):         median {ms(median(plain))}, "
        f"p95 {ms(p95(plain))}, max {ms(max(plain))}"
    )
    print(
        f"  ratio baseline/FlightVault: median {median(plain) / median(ours):.1f}x, "
        f"p95 {p95(plain) / p95(ours):.1f}x"
    )
    print(
        f"idle: one probe {ms(probe)}, one full read {ms(read)} (median of 50); "
        f"per idle second: {ms(10 * probe + read)} of database round trips"
    )


if __name__ == "__main__":
    main()
