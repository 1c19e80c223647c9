"""Restore-point finder against the seed product's wall-clock binary search.

Builds a 1,000,000-row versioned table with 24 hours of history placed by
SET TIMESTAMP: 120 routine statements (5-50 rows each), one damaging DELETE
of 20,000 rows at hour 20, and 10 routine statements after it. Twice: with
row_start and row_end indexed (as `flightvault doctor` advises), and with
only row_end indexed (the index doctor calls essential). For each table,
times in one process the median of 5 runs each of:

* FlightVault: ``core.finder.find_restore_point`` (default: by statement size);
* baseline: binary search over wall-clock seconds in the 24 h window with
  ``COUNT(*) ... FOR SYSTEM_TIME AS OF`` probes, to one-second precision.

    .venv/bin/python -m bench.find [--rows 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bench.common import interleaved, median, ms, orders_ddl, scratch_database
from core.catalogue import TableInfo, load_catalogue
from core.finder import Finding, find_restore_point, first_version
from core.history import count_at, list_events, server_now
from core.timeutil import ONE_MICROSECOND

DAY = 86_400


LAYOUTS = {
    "row_start and row_end indexed": ("row_end", "row_start"),
    "only row_end indexed": ("row_end",),
}


def build(engine: Engine, rows: int, indexes: tuple[str, ...]) -> None:
    rng = random.Random(11)
    start = time.time() - DAY + 60
    with engine.begin() as conn:
        conn.execute(sa.text(orders_ddl("orders", indexes=indexes)))
        conn.execute(sa.text("SET timestamp = :t"), {"t": start - 30})
        conn.execute(
            sa.text(
                "INSERT INTO orders (id, customer, amount)"
                f" SELECT seq, seq % 9973, (seq % 100000) / 100 FROM seq_1_to_{rows}"
            )
        )
    statements = [("routine", start + i * (20 * 3600 / 120)) for i in range(120)]
    statements.append(("damage", start + 20 * 3600))
    statements += [("routine", start + 20 * 3600 + 60 + i * 600) for i in range(10)]
    with engine.connect() as conn:
        for kind, at in statements:
            conn.execute(sa.text("SET timestamp = :t"), {"t": at})
            first = rng.randint(1, rows - 60_000)
            if kind == "damage":
                sql, size = "DELETE FROM orders WHERE id BETWEEN :a AND :a + :n - 1", 20_000
            elif rng.random() < 0.5:
                sql, size = (
                    "DELETE FROM orders WHERE id BETWEEN :a AND :a + :n - 1",
                    rng.randint(5, 50),
                )
            else:
                sql = "UPDATE orders SET amount = amount + 1 WHERE id BETWEEN :a AND :a + :n - 1"
                size = rng.randint(5, 50)
            conn.execute(sa.text(sql), {"a": first, "n": size})
            conn.commit()
        conn.execute(sa.text("SET timestamp = DEFAULT"))


def wall_clock_search(
    conn: Connection, table: TableInfo, start: datetime, end: datetime
) -> tuple[datetime, int]:
    """The seed product: bisect seconds until COUNT(*) AS OF drops 1 % below the start."""
    healthy = count_at(conn, table, start) * 0.99
    lo, hi, probes = start, end, 1
    while (hi - lo) > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        probes += 1
        if count_at(conn, table, mid) < healthy:
            hi = mid
        else:
            lo = mid
    return lo.replace(microsecond=0), probes


def measure(label: str, indexes: tuple[str, ...], rows: int, runs: int) -> None:
    """Build one layout, time both contenders side by side, print one block."""
    with scratch_database("fv_bench_find") as engine:
        started = time.perf_counter()
        build(engine, rows, indexes)
        took = time.perf_counter() - started
        print(f"{label}: built {rows:,} rows with 24 h of history in {took:.1f} s")
        with engine.connect() as conn:
            catalogue = load_catalogue(conn)
            table = catalogue.get("orders")
            now = server_now(conn)
            window = (now - timedelta(hours=24), now)
            events = list_events(conn, catalogue, since=window[0], until=now, tables=["orders"])
            truth = max(events, key=lambda e: e.changes[0].deleted).instant - ONE_MICROSECOND
            results: dict[str, object] = {}

            def ours() -> None:
                results["ours"] = find_restore_point(conn, catalogue, "orders", since=window[0])

            history_start = max(window[0], first_version(conn, table) or window[0])

            def baseline() -> None:
                results["baseline"] = wall_clock_search(conn, table, history_start, now)

            times = interleaved(runs, {"FlightVault": ours, "baseline": baseline})
    finding = results["ours"]
    assert isinstance(finding, Finding)
    point, probes = results["baseline"]  # type: ignore[misc]
    exact = finding.restore_point == truth
    counted = "inserts counted" if finding.loss.inserts_counted else "inserts not counted"
    print(f"  {len(events)} change events in the window; true last healthy instant {truth}")
    ours_ms, base_ms = median(times["FlightVault"]), median(times["baseline"])
    print(f"  median of {runs} runs each, interleaved in one process:")
    print(
        f"    FlightVault finder        {ms(ours_ms):>10}  -> {finding.restore_point}"
        f" ({'exact' if exact else 'WRONG'}; data-loss window: {finding.loss.statements}"
        f" statements, {counted})"
    )
    print(
        f"    wall-clock COUNT AS OF    {ms(base_ms):>10}  -> {point} ({probes} probes, "
        f"off by {(truth - point).total_seconds():.6f} s)"
    )
    print(
        f"  {label}: FlightVault {ms(ours_ms)}, baseline {ms(base_ms)}:"
        f" {base_ms / ours_ms:.0f}x faster{' and exact to the microsecond' if exact else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for label, indexes in LAYOUTS.items():
        measure(label, indexes, args.rows, args.runs)


if __name__ == "__main__":
    main()
