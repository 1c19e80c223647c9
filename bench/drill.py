"""A restore drill costs what the restore it rehearses costs, and leaves nothing behind.

On a 1,000,000-row table, each run deletes 2,000 rows, then times, one after
the other in the same run: the drill (plan + execute + validate + roll back,
as ``/vault drill`` runs it) and the real restore of the same damage (plan +
execute + validate + commit).
The table's checksum and its number of stored versions are compared before and
after every drill. Also timed: a routine drill with nothing to undo (the
scheduled drill on a quiet table).

    .venv/bin/python -m bench.drill [--rows 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import median, ms, scratch_database
from bench.restore import create, damage
from core.catalogue import load_catalogue
from core.drill import plan_to_instant, run_drill
from core.history import server_now
from core.restore import execute_plan

TABLE = "orders"


def fingerprint(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as conn:
        checksum = conn.execute(sa.text(f"CHECKSUM TABLE {TABLE}")).one()[1]
        versions = conn.execute(
            sa.text(f"SELECT COUNT(*) FROM {TABLE} FOR SYSTEM_TIME ALL")
        ).scalar_one()
    return checksum, versions


def restore(engine: Engine, point: object) -> float:
    started = time.perf_counter()
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        plan = plan_to_instant(conn, catalogue, TABLE, point)  # type: ignore[arg-type]
    assert plan is not None
    execute_plan(engine, catalogue, plan)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with scratch_database("flightvault_bench_drill") as engine:
        create(engine, TABLE, args.rows)
        drills, restores, idle, unchanged = [], [], [], 0
        for run in range(args.runs):
            low = 1 + run * 100_000
            point = damage(engine, TABLE, f"id BETWEEN {low} AND {low + 1_999}")
            before = fingerprint(engine)
            started = time.perf_counter()
            result = run_drill(engine, TABLE, point)
            drills.append(time.perf_counter() - started)
            assert result.rows == 2_000, result
            unchanged += fingerprint(engine) == before
            restores.append(restore(engine, point))
            with engine.connect() as conn:
                quiet = server_now(conn)
            started = time.perf_counter()
            run_drill(engine, TABLE, quiet)
            idle.append(time.perf_counter() - started)
            print(
                f"run {run + 1}: drill {ms(drills[-1])}, restore {ms(restores[-1])}, "
                f"drill with nothing to undo {ms(idle[-1])}"
            )
    d, r = median(drills), median(restores)
    print(f"2,000 of {args.rows:,} rows deleted, median of {args.runs}:")
    print(f"  drill (plan, execute, validate, roll back)   {ms(d)}")
    print(f"  restore (plan, execute, validate, commit)    {ms(r)}")
    print(f"  drill / restore: {d / r:.2f}x")
    print(f"  checksum and stored versions unchanged after {unchanged}/{args.runs} drills")
    print(f"  routine drill with nothing to undo: {ms(median(idle))}")


if __name__ == "__main__":
    main()
