"""Carrying out a restore plan: one transaction, checked before and after.

Before writing, the plan's fingerprint is recomputed inside the transaction;
if the rows it would write changed since the preview, nothing is written.
Each step is one server-side statement (``INSERT … SELECT`` from history,
``UPDATE … JOIN`` history, ``DELETE … JOIN`` history); its row count must
equal the plan's, and the dangling references the plan meant to repair must
be gone, or the whole transaction rolls back. Any failure on the way (lost
connection, lock wait timeout, killed query) also rolls back: nothing is
ever half-written, and the plan can be tried again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.catalogue import Catalogue, TableInfo
from core.errors import VaultError
from core.history import ChangeEvent, TableChange, list_events, period_value, server_now
from core.plan import (
    RestorePlan,
    Step,
    StepAction,
    current_fingerprint,
    repaired_references,
    row_set,
)

Progress = Callable[[int, int, Step], None]


class StalePlan(VaultError):
    """The data the plan would write changed since it was previewed."""


class ValidationFailed(VaultError):
    """The written rows did not match the plan; the transaction was rolled back."""


class RestoreFailed(VaultError):
    """The database refused or lost the restore; it was rolled back."""


@dataclass(frozen=True, slots=True)
class RestoreOutcome:
    rows: dict[str, dict[str, int]]  # table -> action -> rows written
    conflicts: int
    started: datetime
    finished: datetime
    seconds: float
    check_seconds: float


def execute_plan(
    engine: Engine,
    catalogue: Catalogue,
    plan: RestorePlan,
    *,
    progress: Progress | None = None,
    locked: bool = False,
    rehearse: bool = False,
) -> RestoreOutcome:
    """Run ``plan``; ``locked=True`` when the caller already holds the plan's named lock.

    ``rehearse=True`` is the drill: every step and check runs exactly as for real, then
    the transaction is rolled back instead of committed, so nothing is written.
    """
    started_at = time.perf_counter()
    try:
        with engine.connect() as conn, _running(conn, plan, held=locked), conn.begin() as tx:
            check_started = time.perf_counter()
            now_fp = current_fingerprint(conn, catalogue, plan)
            if now_fp != plan.fingerprint:
                raise StalePlan(
                    f"The rows this plan would write changed since the preview (fingerprint "
                    f"{plan.fingerprint} is now {now_fp}); nothing was written. "
                    "Preview again to see the current plan."
                )
            check = time.perf_counter() - check_started
            started = server_now(conn)
            written: dict[str, dict[str, int]] = {}
            for number, step in enumerate(plan.steps, start=1):
                count = apply_step(conn, catalogue.tables[step.table], step)
                if count != step.writes:
                    raise ValidationFailed(
                        f"Step {number} ({step.action.value} in `{step.table}`) wrote {count:,} "
                        f"rows, the plan said {step.writes:,}; rolled back, nothing changed."
                    )
                per = written.setdefault(step.table, {})
                per[step.action.value] = per.get(step.action.value, 0) + count
                if progress is not None:
                    progress(number, len(plan.steps), step)
            validate_started = time.perf_counter()
            _validate_references(conn, catalogue, plan)
            check += time.perf_counter() - validate_started
            finished = server_now(conn)
            if rehearse:
                tx.rollback()
    except VaultError:
        raise
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise RestoreFailed(
            f"The database stopped the restore ({reason}); it was rolled back and nothing "
            "changed. You can request it again."
        ) from exc
    return RestoreOutcome(
        rows=written,
        conflicts=sum(s.conflicts for s in plan.steps),
        started=started,
        finished=finished,
        seconds=time.perf_counter() - started_at,
        check_seconds=check,
    )


def lock_name(plan: RestorePlan) -> str:
    return f"flightvault_restore_{plan.fingerprint}"


def acquire(conn: Connection, plan: RestorePlan) -> bool:
    """Take the plan's named lock on ``conn``. The server releases it if the connection
    dies, which is how a sweep tells an interrupted restore from a running one."""
    got = conn.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": lock_name(plan)}).scalar_one()
    conn.commit()
    return bool(got == 1)


def release(conn: Connection, plan: RestorePlan) -> None:
    with contextlib.suppress(sa.exc.DBAPIError):
        conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": lock_name(plan)})
        conn.commit()


@contextmanager
def _running(conn: Connection, plan: RestorePlan, *, held: bool) -> Iterator[None]:
    if held:
        yield
        return
    if not acquire(conn, plan):
        raise RestoreFailed("This restore is already running; nothing else was started.")
    try:
        yield
    finally:
        release(conn, plan)


def is_running(conn: Connection, plan: RestorePlan) -> bool:
    return bool(conn.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": lock_name(plan)}).scalar())


def apply_step(conn: Connection, table: TableInfo, step: Step) -> int:
    """One server-side statement; returns the rows it wrote."""
    rs = row_set(table, step)
    target = table.plain_with_period()
    cols = table.data_columns
    if step.action is StepAction.REINSERT:
        source = sa.select(*(rs.old.c[c] for c in cols))
        if step.conflicts:
            source = source.select_from(rs.joined).where(rs.where, sa.not_(rs.conflict))
        else:
            # No key was occupied at the staleness check moments ago; if one is taken
            # since, the INSERT fails on the duplicate key and rolls back: never overwrites.
            source = source.select_from(rs.old).where(rs.where)
        stmt: sa.Executable = sa.insert(target).from_select(cols, source)
    else:
        key = table.primary_key
        old, new = rs.old, rs.new
        on_key = sa.and_(*(target.c[k] == old.c[k] for k in key))
        if step.action is StepAction.REVERT:
            unchanged = sa.and_(*(target.c[c].is_not_distinct_from(new.c[c]) for c in cols))
            stmt = (
                sa.update(target)
                .values({target.c[c]: old.c[c] for c in table.non_key_columns})
                .where(on_key, rs.where, unchanged)
                .where(*(new.c[k] == old.c[k] for k in key))
                .where(new.c[table.period.start] == old.c[table.period.end])  # type: ignore[union-attr]
            )
        else:
            return _remove(conn, table, step)
    return int(conn.execute(stmt).rowcount)


DOOMED = "fv_doomed"


def _remove(conn: Connection, table: TableInfo, step: Step) -> int:
    """Delete rows the step inserted and nobody changed since.

    MariaDB refuses a DELETE whose subquery reads the target table, so the keys
    are first materialised in a temporary table (which does not end the
    transaction), then deleted by join, re-checking each row is unchanged.
    """
    rs = row_set(table, step)
    key = table.primary_key
    chosen = sa.select(*(rs.old.c[k] for k in key)).select_from(rs.joined)
    chosen = chosen.where(rs.where, sa.not_(rs.conflict))
    compiled = chosen.compile(dialect=conn.dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {DOOMED}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {DOOMED} {compiled.string}", params)
    doomed = sa.table(DOOMED, *(sa.column(sa.sql.elements.quoted_name(k, True)) for k in key))
    target = table.plain_with_period()
    old = table.all_versions().alias("old")
    assert table.period is not None
    stmt = sa.delete(target).where(
        *(target.c[k] == doomed.c[k] for k in key),
        *(old.c[k] == doomed.c[k] for k in key),
        old.c[table.period.start] == _point(table, step),
        *(target.c[c].is_not_distinct_from(old.c[c]) for c in table.data_columns),
    )
    count = int(conn.execute(stmt).rowcount)
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE {DOOMED}")
    return count


def _point(table: TableInfo, step: Step) -> sa.BindParameter[Any]:
    return period_value(
        table, step.transaction_id if step.transaction_id is not None else step.instant
    )


def _validate_references(conn: Connection, catalogue: Catalogue, plan: RestorePlan) -> None:
    for summary in plan.tables:
        if not summary.repaired:
            continue
        events = [
            ChangeEvent(s.instant, s.transaction_id, (TableChange(s.table, deleted=s.rows),))
            for s in plan.steps
            if s.table == summary.table and s.action is StepAction.REINSERT
        ]
        left = repaired_references(conn, catalogue, summary.table, events)
        if left:
            raise ValidationFailed(
                f"{left:,} references to `{summary.table}` still dangle after the restore; "
                "rolled back, nothing changed."
            )


def restore_events(
    conn: Connection, catalogue: Catalogue, plan: RestorePlan, outcome: RestoreOutcome
) -> list[ChangeEvent]:
    """The restore's own statements, for planning its undo."""
    tables = sorted({s.table for s in plan.steps})
    return list_events(
        conn, catalogue, since=outcome.started, until=outcome.finished, tables=tables
    )
