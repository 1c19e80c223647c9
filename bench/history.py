"""How long listing the last hour's change events takes, with and without an index on row_end.

Builds identical 1,000,000-row timestamp-versioned tables (INDEX (row_end);
no index; INDEX (row_end) plus INDEX (row_start)) holding 1,000 change events spread over the
last 24 hours with SET TIMESTAMP, then times ``core.history.list_events``
for the last hour on both, interleaved, median of 5 runs each.

    .venv/bin/python -m bench.history [--rows 1000000] [--events 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import interleaved, median, ms, scratch_database
from core.catalogue import load_catalogue
from core.history import list_events, server_now

DAY = 24 * 3600


TABLES = {"with_index": 1, "without_index": 0, "both_indexes": 2}  # name -> indexes


def _ddl(name: str, indexes: int) -> str:
    index = ", INDEX ix_row_end (row_end)" if indexes else ""
    index += ", INDEX ix_row_start (row_start)" if indexes == 2 else ""
    return (
        f"CREATE TABLE {name} (id INT UNSIGNED PRIMARY KEY, customer INT NOT NULL,"
        " amount DECIMAL(10,2) NOT NULL, note VARCHAR(40) NOT NULL,"
        " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
        " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
        f" PERIOD FOR SYSTEM_TIME (row_start, row_end){index}) WITH SYSTEM VERSIONING"
    )


def build(engine: Engine, rows: int, events: int) -> None:
    """Both tables get the same rows and the same events at the same instants."""
    now = time.time()
    with engine.begin() as conn:
        for name, indexes in TABLES.items():
            conn.execute(sa.text(_ddl(name, indexes)))
            conn.execute(sa.text("SET timestamp = :t"), {"t": now - DAY - 600})
            conn.execute(
                sa.text(
                    f"INSERT INTO {name} (id, customer, amount, note)"
                    " SELECT seq, seq % 9973, (seq % 100000) / 100, CONCAT('order ', seq)"
                    f" FROM seq_1_to_{rows}"
                )
            )
    with engine.connect() as conn:
        for i in range(events):
            at = now - DAY + i * (DAY - 60) / events
            first = 1 + (i * 997) % (rows - 10)
            for name in TABLES:
                conn.execute(sa.text("SET timestamp = :t"), {"t": at})
                if i % 2:
                    sql = f"DELETE FROM {name} WHERE id BETWEEN :a AND :a + 4"
                else:
                    sql = f"UPDATE {name} SET amount = amount + 1 WHERE id BETWEEN :a AND :a + 9"
                conn.execute(sa.text(sql), {"a": first})
                conn.commit()
        conn.execute(sa.text("SET timestamp = DEFAULT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    with scratch_database("fv_bench_history", keep=args.keep) as engine:
        started = time.perf_counter()
        build(engine, args.rows, args.events)
        print(
            f"built {len(TABLES)} x {args.rows:,} rows, {args.events:,} events over 24 h "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with engine.connect() as conn:
            catalogue = load_catalogue(conn)
            since = server_now(conn).timestamp() - 3600
            window = datetime.fromtimestamp(since, UTC)

            def run(table: str, inserts: bool) -> int:
                found = list_events(conn, catalogue, since=window, tables=[table], inserts=inserts)
                return len(found)

            counts = {t: run(t, False) for t in TABLES}
            assert len(set(counts.values())) == 1 and counts["with_index"] > 0, counts
            times = interleaved(
                args.runs,
                {
                    "indexed": lambda: run("with_index", False),
                    "unindexed": lambda: run("without_index", False),
                    "indexed+inserts": lambda: run("with_index", True),
                    "unindexed+inserts": lambda: run("without_index", True),
                    "both+inserts": lambda: run("both_indexes", True),
                },
            )
    print(f"events in the last hour: {counts['with_index']} (of {args.events:,})")
    print(f"median of {args.runs} runs each, interleaved in one process:")
    base = median(times["unindexed"])
    for name, values in times.items():
        print(f"  {name:<18} {ms(median(values)):>10}   (min {ms(min(values))})")
    print(
        f"index on row_end: {base / median(times['indexed']):.0f}x faster "
        "for deletions/updates (the watcher's query)"
    )
    print(
        "'+inserts' also counts inserted rows, which scans row_start unless it is indexed "
        f"(both indexes: {median(times['unindexed+inserts']) / median(times['both+inserts']):.0f}x"
        " faster than none)"
    )


if __name__ == "__main__":
    main()
