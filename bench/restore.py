"""Surgical restore against the seed product's method and against a bare server-side copy.

1. 2,000 rows deleted from a 1,000,000-row table: FlightVault's restore
   (staleness check, one INSERT … SELECT from history limited to those rows,
   verification against history, one transaction) against the seed product's
   ``REPLACE INTO t SELECT * FROM t FOR SYSTEM_TIME AS OF …``, which rewrites
   the whole table (and clobbers later writes).
2. A fully deleted 1,000,000-row table: FlightVault's restore, verification
   included, against a bare ``INSERT INTO t SELECT * FROM t FOR SYSTEM_TIME
   AS OF …`` on an identical table, in the same run.
3. An employees-shaped disaster: about 8,000 employees deleted, about
   100,000 rows cascaded into four child tables, restored and verified.

Runs alternate between contenders; medians are printed with the ratios, and
each restore's verification time as a share of the restore. The preview is
timed as *Preview restore* runs it (plan, then the rehearsal when the plan
is small or fires a trigger), from the damage's events; the full-table
loss's preview gets its own line against its goal of 2 s.

    .venv/bin/python -m bench.restore [--rows 1000000] [--runs 3] [--only tables|staff]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import median, ms, orders_ddl, scratch_database
from core.catalogue import load_catalogue
from core.history import list_events, server_now
from core.plan import RestorePlan, build_plan
from core.restore import RestoreOutcome, execute_plan, maybe_rehearse
from core.timeutil import ONE_MICROSECOND, to_db
from tests.acceptance import employees

COLUMNS = "id, customer, amount, note"
REHEARSE_ROWS = 100_000  # VAULT_REHEARSE_ROWS' default
STAFF = 40_000  # employees; 10 salaries each: 400,000 salary rows
GONE = "hire_date < '1985-01-01' + INTERVAL 1000 DAY"  # a fifth: about 8,000 people


def create(engine: Engine, name: str, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(orders_ddl(name, indexes=("row_end", "row_start"), note=True)))
        conn.execute(
            sa.text(
                f"INSERT INTO {name} ({COLUMNS}) SELECT seq, seq % 9973, (seq % 100000) / 100,"
                f" CONCAT('order ', seq) FROM seq_1_to_{rows}"
            )
        )


def damage(engine: Engine, name: str, where: str) -> datetime:
    """Run a DELETE; return the restore point (1 µs before it)."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {name} WHERE {where}"))
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        now = server_now(conn)
        (*_, event) = list_events(
            conn, catalogue, since=now.replace(year=now.year - 1), tables=[name], inserts=False
        )
    return event.instant - ONE_MICROSECOND


def plan_for(engine: Engine, name: str, point: datetime) -> tuple[RestorePlan, float]:
    """The preview as *Preview restore* builds it (plan, then rehearsal when the plan is
    small or fires a trigger), from the damage's events; returns it with its seconds."""
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        events = list_events(conn, catalogue, since=point, tables=[name], inserts=False)
        started = time.perf_counter()
        plan = build_plan(conn, catalogue, table=name, events=events, restore_point=point)
    plan = maybe_rehearse(engine, catalogue, plan, up_to=REHEARSE_ROWS)
    return plan, time.perf_counter() - started


def ours(engine: Engine, plan: RestorePlan) -> RestoreOutcome:
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    return execute_plan(engine, catalogue, plan)


def server_copy(engine: Engine, verb: str, name: str, point: datetime) -> float:
    sql = (
        f"{verb} INTO {name} ({COLUMNS}) SELECT {COLUMNS} FROM {name}"
        " FOR SYSTEM_TIME AS OF TIMESTAMP :p"
    )
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text(sql), {"p": to_db(point)})
    return time.perf_counter() - started


def count(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one())


def _share(outcomes: list[RestoreOutcome]) -> str:
    shares = [o.verify_seconds / max(o.seconds - o.verify_seconds, 1e-9) for o in outcomes]
    return f"verification adds {median(shares):.0%} to the restore"


def small_and_full(engine: Engine, rows: int, runs: int) -> None:
    for name in ("small_ours", "small_seed", "full_ours", "full_bare"):
        create(engine, name, rows)
    small: dict[str, list[float]] = {"seed": [], "plan": []}
    full: dict[str, list[float]] = {"bare": [], "plan": []}
    small_out: list[RestoreOutcome] = []
    full_out: list[RestoreOutcome] = []
    for run in range(runs):
        lo = 1 + run * 10_000
        where = f"id BETWEEN {lo} AND {lo + 1_999}"
        point = damage(engine, "small_ours", where)
        plan, seconds = plan_for(engine, "small_ours", point)
        small["plan"].append(seconds)
        small_out.append(ours(engine, plan))
        small["seed"].append(
            server_copy(engine, "REPLACE", "small_seed", damage(engine, "small_seed", where))
        )
        assert count(engine, "small_ours") == count(engine, "small_seed") == rows
        point = damage(engine, "full_ours", "1 = 1")
        plan, seconds = plan_for(engine, "full_ours", point)
        full["plan"].append(seconds)
        full_out.append(ours(engine, plan))
        full["bare"].append(
            server_copy(engine, "INSERT", "full_bare", damage(engine, "full_bare", "1 = 1"))
        )
        assert count(engine, "full_ours") == count(engine, "full_bare") == rows
        assert small_out[-1].verified == 2_000 and full_out[-1].verified == rows
        print(
            f"run {run + 1}: small ours {ms(small_out[-1].seconds)} (verify"
            f" {ms(small_out[-1].verify_seconds)}), seed {ms(small['seed'][-1])};"
            f" full ours {ms(full_out[-1].seconds)} (verify {ms(full_out[-1].verify_seconds)}),"
            f" bare {ms(full['bare'][-1])}; full-table preview {ms(full['plan'][-1])}",
            flush=True,
        )
    s_ours, s_seed = median([o.seconds for o in small_out]), median(small["seed"])
    f_ours, f_bare = median([o.seconds for o in full_out]), median(full["bare"])
    print(f"medians of {runs} runs, contenders alternating in one process:")
    print(
        f"  2,000 of {rows:,} rows deleted: FlightVault {ms(s_ours)} "
        f"(preview {ms(median(small['plan']))} before it) vs REPLACE … AS OF {ms(s_seed)}"
        f" -> {s_seed / s_ours:.0f}x faster; {_share(small_out)}"
    )
    print(
        f"  all {rows:,} rows deleted: FlightVault {ms(f_ours)} verified"
        f" (preview {ms(median(full['plan']))} before it) vs bare INSERT … AS OF {ms(f_bare)}"
        f" -> {f_ours / f_bare:.2f}x the bare copy; {_share(full_out)}"
    )
    preview = median(full["plan"])
    print(
        f"  preview of the full-table loss ({rows:,} rows to re-insert): {ms(preview)}"
        f" (goal: at most 2 s; {'met' if preview <= 2 else 'MISSED'})"
    )


def staff_disaster(engine: Engine, runs: int, *, indexed: bool) -> None:
    with engine.begin() as conn:
        for statement in employees.setup(STAFF, salaries_each=10, indexed=indexed):
            conn.execute(sa.text(statement))
    outcomes: list[RestoreOutcome] = []
    for _ in range(runs):
        point = damage(engine, "employees", GONE)
        with engine.connect() as conn:
            catalogue = load_catalogue(conn)
            events = list_events(conn, catalogue, since=point, tables=["employees"])
            plan = build_plan(
                conn, catalogue, table="employees", events=events, restore_point=point
            )
        outcomes.append(ours(engine, plan))
    people = sum(t.reinsert for t in plan.tables if t.table == "employees")
    cascaded = plan.rows - people
    layout = "row_end indexed everywhere" if indexed else "salaries on implicit period columns"
    print(
        f"employees-shaped disaster, {layout} ({people:,} employees, {cascaded:,} cascaded rows"
        f" in {len(plan.tables) - 1} tables), median of {runs}: restored and verified in"
        f" {ms(median([o.seconds for o in outcomes]))}, {outcomes[-1].verified:,} rows equal"
        f" to history; {_share(outcomes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("tables", "staff"), help="run one part")
    args = parser.parse_args()
    if args.only != "staff":
        with scratch_database("fv_bench_restore") as engine:
            small_and_full(engine, args.rows, args.runs)
    for indexed in (True, False) if args.only != "tables" else ():
        with scratch_database("fv_bench_employees") as engine:
            staff_disaster(engine, args.runs, indexed=indexed)


if __name__ == "__main__":
    main()
