"""Scale: one deployment watching 1,000 small versioned tables, beside one watching 1.

Creates the tables (explicit row_start/row_end, INDEX(row_end)) in a scratch database,
runs the real bot process (``flightvault serve --http``) against the Web API stand-in,
and measures: root messages posted at start-up; idle CPU of the bot and of mariadbd over
``--idle`` seconds from /proc (mariadbd is shared, so its idle CPU with no bot running is
measured side by side and the difference reported); commit -> alert latency of deletions
of 300 rows spread over the tables. The same with one table.

    .venv/bin/python -m bench.scale [--tables 1000] [--deletions 10] [--idle 20] [--wake]

``--wake`` adds polling against following the binary log (``VAULT_WAKE``), side by side
on a private binlog-enabled mariadbd whose CPU is the bot's alone.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import scratch_database
from bot.offline.webapi import FakeSlackAPI

ROWS = 400
DELETED = 300
TOKEN = "xoxb-flightvault-bench"
TICK = os.sysconf("SC_CLK_TCK")


def ddl(name: str) -> str:
    return (
        f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT NOT NULL,"
        " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
        " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
        " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING"
    )


def build(engine: Engine, tables: int) -> list[str]:
    names = [f"t{i:04d}" for i in range(tables)]
    with engine.begin() as conn:  # young tables: every one has a short history
        for name in names:
            conn.execute(sa.text(ddl(name)))
            conn.execute(sa.text(f"INSERT INTO {name} SELECT seq, seq FROM seq_1_to_{ROWS}"))
    return names


def mariadbd_pid(port: int) -> int:
    """The mariadbd serving ``port`` (others may run on this machine)."""
    pids = [
        int(p)
        for p in subprocess.run(
            ["pidof", "mariadbd"], capture_output=True, text=True
        ).stdout.split()
    ]
    for pid in pids:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        ports = [a for a in args if a.startswith(b"--port=")]
        if (ports and ports[0] == f"--port={port}".encode()) or (not ports and port == 3306):
            return pid
    raise SystemExit(f"no mariadbd serving port {port}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_share(pid: int, seconds: float) -> float:
    """Share of one core ``pid`` used over ``seconds``."""
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - start)


def both_shares(bot: int, db: int, seconds: float) -> tuple[float, float]:
    b0, d0, start = cpu_seconds(bot), cpu_seconds(db), time.monotonic()
    time.sleep(seconds)
    took = time.monotonic() - start
    return (cpu_seconds(bot) - b0) / took, (cpu_seconds(db) - d0) / took


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return int(reply.status)
    except OSError:
        return 0


@contextmanager
def serve(
    url: str, slack: FakeSlackAPI, port: int, wake: str = "auto"
) -> Iterator[subprocess.Popen[bytes]]:
    """The real ``flightvault serve --http`` process, its state in a fresh SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VAULT_"))}
        env.update(
            PORT=str(port),
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET="bench-secret",
            SLACK_API_URL=slack.base_url,
            VAULT_DATABASE_URL=url,
            VAULT_ALERT_CHANNEL="C0INCIDENT",
            VAULT_APPROVERS="U0ALICE,U0BOB",
            VAULT_STATE_URL=f"sqlite:///{folder}/state.db",
            VAULT_GROUP_WINDOW="0",
            VAULT_WAKE=wake,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while get(f"http://127.0.0.1:{port}/healthz") != 200:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the bot process did not start")
                time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=60)


def roots(slack: FakeSlackAPI) -> int:
    return len([c for c in slack.calls_to("chat.postMessage") if not c.params.get("thread_ts")])


def latencies(engine: Engine, slack: FakeSlackAPI, names: list[str], n: int) -> list[float]:
    rng = random.Random(len(names))
    out = []
    for name in rng.sample(names, n) if len(names) >= n else [names[0]] * n:
        time.sleep(rng.uniform(0.3, 1.3))  # a random phase of the probe cycle
        seen = len(slack.calls_to("chat.postMessage"))
        low = rng.randint(0, ROWS // 4 - 1) if len(names) >= n else 0
        with engine.begin() as conn:
            conn.execute(
                sa.text(f"DELETE FROM {name} WHERE id > :lo AND id <= :hi"),
                {"lo": low, "hi": low + DELETED},
            )
        committed = time.monotonic()
        (*_, alert) = slack.wait_for("chat.postMessage", seen + 1, timeout=30)
        out.append(alert.at - committed)
        if len(names) < n:  # one table: put the rows back for the next deletion
            with engine.begin() as conn:
                conn.execute(sa.text(f"INSERT INTO {name} SELECT seq, seq FROM seq_1_to_{DELETED}"))
            time.sleep(3)  # leave its hot period, so each deletion starts idle
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def run(tables: int, deletions: int, idle: float, db: int) -> dict[str, float]:
    with scratch_database(f"fv_bench_scale_{tables}") as engine:
        return measure(engine, tables, deletions, idle, db)


def measure(
    engine: Engine, tables: int, deletions: int, idle: float, db: int, wake: str = "auto"
) -> dict[str, float]:
    started = time.perf_counter()
    names = build(engine, tables)
    print(f"{tables:,} tables of {ROWS} rows built in {time.perf_counter() - started:.1f} s")
    url = engine.url.render_as_string(hide_password=False)
    port = 3000 + os.getpid() % 1000 + tables % 7
    alone = [cpu_share(db, idle)]  # mariadbd with no bot running, before and after
    with FakeSlackAPI(token=TOKEN) as slack, serve(url, slack, port, wake) as process:
        time.sleep(15)  # start-up: bootstrap, first health check, digests delivered
        posted = roots(slack)
        bot_cpu, db_cpu = both_shares(process.pid, db, idle)
        lat = latencies(engine, slack, names, deletions)
    alone.append(cpu_share(db, idle))
    return {
        "roots": posted,
        "bot": bot_cpu,
        "db": db_cpu,
        "db_alone": statistics.mean(alone),
        "db_extra": db_cpu - statistics.mean(alone),
        "p50": statistics.median(lat),
        "p95": p95(lat),
    }


ROWS_SHOWN = [
    ("root messages at start-up", "roots", "{:.0f}", "a handful"),
    ("bot CPU idle (share of one core)", "bot", "{:.1%}", ""),
    ("mariadbd CPU beside the idle bot", "db", "{:.1%}", ""),
    ("mariadbd CPU with no bot", "db_alone", "{:.1%}", ""),
    ("mariadbd CPU the bot adds", "db_extra", "{:.1%}", ""),
    ("commit -> alert p50 (s)", "p50", "{:.3f}", "~0.1 (1 table)"),
    ("commit -> alert p95 (s)", "p95", "{:.3f}", "<= 1"),
]


def table(left: str, right: str, a: dict[str, float], b: dict[str, float]) -> None:
    print(f"{'':38} {left:>17} {right:>16}   goal")
    for label, key, fmt, goal in ROWS_SHOWN:
        print(f"{label:38} {fmt.format(a[key]):>17} {fmt.format(b[key]):>16}   {goal}")
    totals = [x["bot"] + max(x["db_extra"], 0.0) for x in (a, b)]
    print(f"{'bot + added mariadbd, idle':38} {totals[0]:>17.1%} {totals[1]:>16.1%}   <= 10%")


def wake_comparison(tables: int, deletions: int, idle: float) -> None:
    """Polling against following the binary log, on a private binlog-enabled server that
    nothing else uses (so its CPU is the bot's alone), side by side."""
    from bot.private_server import PrivateServer
    from core.db import make_engine

    results = {}
    with PrivateServer(binlog=True, buffer_pool="256M") as server:
        assert server.process is not None
        for wake in ("poll", "binlog"):
            url = server.url.render_as_string(hide_password=False)
            admin = make_engine(url)
            with admin.begin() as conn:  # a fresh schema each time: the same start-up work
                conn.execute(sa.text("DROP DATABASE IF EXISTS test"))
                conn.execute(sa.text("CREATE DATABASE test"))
            admin.dispose()
            engine = make_engine(url)
            try:
                results[wake] = measure(engine, tables, deletions, idle, server.process.pid, wake)
            finally:
                engine.dispose()
    print("\nprivate binlog-enabled mariadbd (its CPU is the bot's alone):")
    table(f"{tables:,} t, poll", f"{tables:,} t, binlog", results["poll"], results["binlog"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--deletions", type=int, default=10)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument(
        "--wake", action="store_true", help="also compare polling with following the binlog"
    )
    args = parser.parse_args()
    db = mariadbd_pid(3306)
    many = run(args.tables, args.deletions, args.idle, db)
    one = run(1, args.deletions, args.idle, db)
    print("\nmeasured under load (shared 2-core machine, shared mariadbd):")
    table(f"{args.tables:,} tables", "1 table", many, one)
    if args.wake:
        wake_comparison(args.tables, args.deletions, args.idle)


if __name__ == "__main__":
    main()
