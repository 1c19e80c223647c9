"""Restore drill: prove a restore would work, without writing anything.

A drill builds the same plan a restore to an instant would (undo every change
to the table and its cascades since then), executes it with every step and
check of a real restore inside one transaction, and rolls back. What it
proves: the history is readable, the plan is buildable (no DDL in the way),
the account's grants suffice, and the writes validate. What it cannot hide:
the rows it touches are locked for the length of the drill, and InnoDB does
not roll back an AUTO_INCREMENT counter a re-insert raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection, Engine

from core.catalogue import Catalogue, load_catalogue
from core.finder import related_tables
from core.history import list_events, server_now
from core.plan import (
    RestorePlan,
    TableSummary,
    build_plan,
    check_restore_privileges,
    last_ddl,
)
from core.restore import RestoreOutcome, execute_plan


@dataclass(frozen=True, slots=True)
class DrillResult:
    table: str
    restore_point: datetime
    statements: int  # changes the drill undid (0: nothing changed since)
    tables: tuple[TableSummary, ...] = ()
    written: dict[str, dict[str, int]] | None = None  # what the rolled-back restore wrote
    conflicts: int = 0
    unrecoverable: tuple[str, ...] = ()
    plan_seconds: float = 0.0
    run_seconds: float = 0.0
    check_seconds: float = 0.0
    verified: int = 0  # rows that came out equal to history before the rollback

    @property
    def rows(self) -> int:
        return sum(sum(a.values()) for a in (self.written or {}).values())


def plan_to_instant(
    conn: Connection, catalogue: Catalogue, table: str, instant: datetime
) -> RestorePlan | None:
    """The plan undoing every statement that changed ``table`` after ``instant``, with its
    whole footprint (cascades, SET NULL children, triggers); None when nothing changed."""
    info = catalogue.watchable(table)
    events = list_events(conn, catalogue, since=instant, until=server_now(conn), tables=[info.name])
    if not events:
        return None
    return build_plan(conn, catalogue, table=info.name, events=events, restore_point=instant)


def drill_point(engine: Engine, table: str, window: timedelta) -> datetime:
    """``window`` back from now, but never before the table (or a related one) was last
    created or altered: a restore across DDL is refused, and a routine drill should test
    the restore that could be asked for, not that refusal."""
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        info = catalogue.watchable(table)
        point = server_now(conn) - window
        ddl = last_ddl(conn, catalogue, set(related_tables(catalogue, info)))
    return max(point, ddl + timedelta(seconds=1)) if ddl is not None else point


def run_drill(engine: Engine, table: str, instant: datetime) -> DrillResult:
    """Raises the ``VaultError`` a real restore would meet; returns what it would write."""
    started = time.perf_counter()
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        plan = plan_to_instant(conn, catalogue, table, instant)
        if plan is None:  # nothing to undo: still prove the account could write it back
            info = catalogue.watchable(table)
            check_restore_privileges(conn, catalogue, set(related_tables(catalogue, info)))
    planned = time.perf_counter() - started
    if plan is None:
        return DrillResult(table=table, restore_point=instant, statements=0, plan_seconds=planned)
    outcome: RestoreOutcome = execute_plan(engine, catalogue, plan, rehearse=True)
    return DrillResult(
        table=plan.table,
        restore_point=instant,
        statements=len(plan.statements),
        tables=plan.tables,
        written=outcome.rows,
        conflicts=outcome.conflicts,
        unrecoverable=plan.unrecoverable,
        plan_seconds=planned,
        run_seconds=outcome.seconds,
        check_seconds=outcome.check_seconds,
        verified=outcome.verified,
    )
