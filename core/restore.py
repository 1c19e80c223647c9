"""Carrying out a restore plan: one transaction, checked before and after.

Before writing, the plan's fingerprint is recomputed inside the transaction;
if the rows it would write changed since the preview, nothing is written.
Each step is one server-side statement over the step's writable rows. The
session's foreign-key checks are off for the transaction: the plan restores
every table of the footprint from its own history, so the server's cascades
must not fire on the restore's writes, and a self-referencing or cyclic key
would otherwise need the rows in an order one statement cannot give. The
checks are done instead by ``core.verify``, after triggers' effects were
re-asserted away: every footprint row equal to its version before the damage
(only the previewed skips may differ) and no new dangling reference. Any
failure rolls the whole transaction back: nothing is ever half-written.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.catalogue import Catalogue, Precision, TableInfo
from core.errors import VaultError
from core.history import ChangeEvent, list_events, period_value, server_now
from core.jsonable import Jsonable
from core.plan import (
    PlanRefused,
    Rehearsal,
    RestorePlan,
    Step,
    check_no_ddl_since,
    current_fingerprint,
)
from core.rowmatch import same_row
from core.rowsets import RowSet, Scope, StepAction, row_set, touched_earlier
from core.triggers import user_triggers
from core.verify import Verification, verify

Progress = Callable[[int, int, Step], None]
KEYS = "fv_restore_keys"
_REGISTRY_MAX = sa.text("SELECT COALESCE(MAX(transaction_id), 0) FROM mysql.transaction_registry")


class StalePlan(VaultError):
    """The data the plan would write changed since it was previewed."""


class ValidationFailed(VaultError):
    """The restored rows did not match history; the transaction was rolled back."""


class RestoreFailed(VaultError):
    """The database refused or lost the restore; it was rolled back."""


@dataclass(frozen=True, slots=True)
class RestoreOutcome(Jsonable):
    rows: dict[str, dict[str, int]]  # table -> action -> rows written
    conflicts: int  # rows skipped as previewed (conflicts and held rows)
    started: datetime
    finished: datetime
    seconds: float
    check_seconds: float
    verified: int = 0  # footprint rows equal to their versions before the damage
    verify_seconds: float = 0.0


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
        with (
            engine.connect() as conn,
            _running(conn, plan, held=locked, rehearsal=rehearse),
            _no_fk_checks(conn),
            conn.begin() as tx,
        ):
            outcome = _execute(conn, catalogue, plan, progress)
            if rehearse:
                tx.rollback()
    except VaultError:
        raise
    except sa.exc.DBAPIError as exc:
        raise RestoreFailed(
            f"The database stopped the restore ({_reason(exc)}); it was rolled back and nothing "
            "changed. You can request it again."
        ) from exc
    return replace(outcome, seconds=time.perf_counter() - started_at)


def _reason(exc: sa.exc.DBAPIError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]


def _execute(
    conn: Connection, catalogue: Catalogue, plan: RestorePlan, progress: Progress | None
) -> RestoreOutcome:
    check_started = time.perf_counter()
    tables = {s.table for s in plan.steps}
    check_no_ddl_since(conn, catalogue, tables, min(s.instant for s in plan.steps))
    now_fp = current_fingerprint(conn, catalogue, plan)
    if now_fp != plan.fingerprint:
        raise StalePlan(
            f"The rows this plan would write changed since the preview (fingerprint "
            f"{plan.fingerprint} is now {now_fp}); nothing was written. "
            "Preview again to see the current plan."
        )
    started = server_now(conn)
    scope = plan.scope(catalogue, since=(started, _last_transaction(conn, catalogue, plan)))
    check = time.perf_counter() - check_started
    written = _apply_all(conn, scope, plan, progress)
    if plan.triggers:  # a later step's triggers may have touched an earlier step's rows;
        for step in plan.steps:  # each key is set to what its oldest statement decides
            rs = row_set(scope, step.key)
            _reassert(conn, rs, sa.not_(touched_earlier(scope, rs)))
    verify_started = time.perf_counter()
    result = _verify(conn, scope, plan)
    verify_seconds = time.perf_counter() - verify_started
    return RestoreOutcome(
        rows=written,
        conflicts=plan.skipped,
        started=started,
        finished=server_now(conn),
        seconds=0.0,
        check_seconds=check + verify_seconds,
        verified=result.verified,
        verify_seconds=verify_seconds,
    )


def _apply_all(
    conn: Connection, scope: Scope, plan: RestorePlan, progress: Progress | None
) -> dict[str, dict[str, int]]:
    written: dict[str, dict[str, int]] = {}
    for number, step in enumerate(plan.steps, start=1):
        rs = row_set(scope, step.key)
        try:
            count = apply_step(conn, rs, every_row=step.writes == step.rows and not plan.triggers)
        except sa.exc.DBAPIError as exc:
            raise RestoreFailed(
                f"The database stopped the restore at step {number} ({step.action.value} in "
                f"`{step.table}`: {_reason(exc)}); it was rolled back and nothing changed. "
                "You can request it again."
            ) from exc
        if plan.triggers:  # put history back before the next step judges its parents
            _reassert(conn, rs)
        elif count != step.writes:  # with triggers, verification decides
            raise ValidationFailed(
                f"Step {number} ({step.action.value} in `{step.table}`) wrote {count:,} "
                f"rows, the plan said {step.writes:,}; rolled back, nothing changed."
            )
        per = written.setdefault(step.table, {})
        per[step.action.value] = per.get(step.action.value, 0) + count
        if progress is not None:
            progress(number, len(plan.steps), step)
    return written


def _verify(conn: Connection, scope: Scope, plan: RestorePlan) -> Verification:
    expected = {t.table: t.skipped for t in plan.tables}
    result = verify(conn, scope, expected)
    if not result.ok:
        raise ValidationFailed(
            f"After the restore's writes, rows still differ from history: {result.failures()}. "
            "Rolled back, nothing changed."
        )
    return result


def _last_transaction(conn: Connection, catalogue: Catalogue, plan: RestorePlan) -> int:
    """The newest committed transaction id, when a transaction-precise table is involved."""
    precise = any(
        (p := catalogue.tables[s.table].period) is not None and p.precision is Precision.TRANSACTION
        for s in plan.steps
    )
    return int(conn.execute(_REGISTRY_MAX).scalar_one()) if precise else 0


@contextmanager
def _no_fk_checks(conn: Connection) -> Iterator[None]:
    conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    conn.commit()  # a session setting; ends SQLAlchemy's implicit transaction
    try:
        yield
    finally:
        try:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")
            conn.commit()
        except sa.exc.DBAPIError:  # never hand a session without the checks back to the pool
            conn.invalidate()


def lock_name(plan: RestorePlan, *, rehearsal: bool = False) -> str:
    """The named lock a run of ``plan`` holds; rehearsals (previews, drills) hold their own,
    so one never makes the real restore look as if it were already running."""
    kind = "rehearse" if rehearsal else "restore"
    return f"flightvault_{kind}_{plan.fingerprint}"


def acquire(conn: Connection, plan: RestorePlan, *, rehearsal: bool = False) -> bool:
    """Take the plan's named lock on ``conn``. The server releases it if the connection
    dies, which is how a sweep tells an interrupted restore from a running one."""
    name = lock_name(plan, rehearsal=rehearsal)
    got = conn.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar_one()
    conn.commit()
    return bool(got == 1)


def release(conn: Connection, plan: RestorePlan, *, rehearsal: bool = False) -> None:
    with contextlib.suppress(sa.exc.DBAPIError):
        name = lock_name(plan, rehearsal=rehearsal)
        conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": name})
        conn.commit()


@contextmanager
def _running(conn: Connection, plan: RestorePlan, *, held: bool, rehearsal: bool) -> Iterator[None]:
    if held:
        yield
        return
    if not acquire(conn, plan, rehearsal=rehearsal):
        what = "A rehearsal of this restore" if rehearsal else "This restore"
        raise RestoreFailed(f"{what} is already running; nothing else was started.")
    try:
        yield
    finally:
        release(conn, plan, rehearsal=rehearsal)


def is_running(conn: Connection, plan: RestorePlan) -> bool:
    return bool(conn.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": lock_name(plan)}).scalar())


# --------------------------------------------------------------------------- writing


def apply_step(conn: Connection, rs: RowSet, *, every_row: bool = False) -> int:
    """One server-side write of the step's writable rows; returns the rows it wrote.

    ``every_row``: the preview found every row of this re-insert writable and the
    fingerprint proved nothing changed since, so the rows are copied from history
    without looking at the table (a key taken meanwhile fails the INSERT: it never
    overwrites), which spares a lookup per row on a large restore.
    """
    table = rs.table
    if rs.key.action is StepAction.REINSERT:
        cols = table.writable_columns
        source = sa.select(*(rs.old.c[c] for c in cols))
        if every_row:
            source = source.select_from(rs.old).where(rs.where)
        else:
            source = source.select_from(rs.source).where(rs.where, rs.writable)
        stmt = sa.insert(table.plain_with_period()).from_select(cols, source)
        return int(conn.execute(stmt).rowcount)
    staged = _stage(conn, rs, rs.writable)
    if rs.key.action is StepAction.REMOVE:
        return _delete_staged(conn, table, staged)
    if table.unique_keys and not user_triggers(table):
        return _rewrite_staged(conn, rs, staged)
    return _set_to_history(conn, rs, staged)


def _stage(conn: Connection, rs: RowSet, cond: Any) -> sa.TableClause:
    """Put the chosen rows' keys in a temporary table (which does not end the transaction):
    MariaDB will not UPDATE or DELETE a table through a join that reads it again."""
    keys = sa.select(*(rs.driver.c[k] for k in rs.table.key)).select_from(rs.source)
    compiled = keys.where(rs.where, cond).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {KEYS}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {KEYS} {compiled.string}", params)
    return sa.table(KEYS, *(sa.column(sa.sql.elements.quoted_name(k, True)) for k in rs.table.key))


def _set_to_history(conn: Connection, rs: RowSet, staged: sa.TableClause) -> int:
    """Give every staged key its version before the damage (``rs.old``)."""
    table = rs.table
    assert table.period is not None
    target = table.plain_with_period()
    old = table.all_versions().alias()
    stmt = (
        sa.update(target)
        .values({target.c[c]: old.c[c] for c in table.writable_columns})
        .where(
            *(target.c[k] == staged.c[k] for k in table.key),
            *(old.c[k] == staged.c[k] for k in table.key),
            old.c[table.period.end] == period_value(table, rs.key.point),
            sa.not_(same_row(table, target, old)),
        )
    )
    count = int(conn.execute(stmt).rowcount)
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE {KEYS}")
    return count


def _delete_staged(
    conn: Connection, table: TableInfo, staged: sa.TableClause, *, keep: bool = False
) -> int:
    target = table.plain_with_period()
    stmt = sa.delete(target).where(*(target.c[k] == staged.c[k] for k in table.key))
    count = int(conn.execute(stmt).rowcount)
    if not keep:
        conn.exec_driver_sql(f"DROP TEMPORARY TABLE {KEYS}")
    return count


def _rewrite_staged(conn: Connection, rs: RowSet, staged: sa.TableClause) -> int:
    """Revert by deleting the staged rows, then inserting their versions before the damage.

    One UPDATE checks UNIQUE keys row by row, so values the damage shifted between rows
    (``UPDATE t SET id = id + 1`` moving every label one row on) would collide half-way;
    with every row of the step out of the way first, they cannot. Foreign-key checks are
    off, so the delete cascades nothing.
    """
    table = rs.table
    assert table.period is not None
    deleted = _delete_staged(conn, table, staged, keep=True)
    old = table.all_versions().alias()
    cols = table.writable_columns
    source = sa.select(*(old.c[c] for c in cols)).where(
        *(old.c[k] == staged.c[k] for k in table.key),
        old.c[table.period.end] == period_value(table, rs.key.point),
    )
    inserted = int(
        conn.execute(sa.insert(table.plain_with_period()).from_select(cols, source)).rowcount
    )
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE {KEYS}")
    if inserted != deleted:
        raise ValidationFailed(
            f"Reverting `{table.name}` removed {deleted:,} rows but put back {inserted:,}; "
            "rolled back, nothing changed."
        )
    return inserted


def _reassert(conn: Connection, rs: RowSet, only: Any = True) -> None:
    """Undo what triggers did to the restore's own rows: a row of the step the restore
    wrote that no longer equals its version before the damage is set back to it (or, for
    a removal, removed again)."""
    table = rs.table
    assert table.period is not None
    mine = rs.cur.c[table.period.start] >= _bound(table, rs.scope_since)
    present = rs.cur.c[table.key[0]].is_not(None)
    if rs.key.action is StepAction.REMOVE:
        _delete_staged(conn, table, _stage(conn, rs, sa.and_(present, mine, only)))
        return
    drifted = sa.and_(present, mine, sa.not_(same_row(table, rs.cur, rs.old)))
    _set_to_history(conn, rs, _stage(conn, rs, sa.and_(drifted, sa.not_(rs.held), only)))


def _bound(table: TableInfo, since: Any) -> Any:
    if isinstance(since, int):
        return period_value(table, since + 1)
    return period_value(table, since)


# --------------------------------------------------------------------------- rehearsal


def rehearse(engine: Engine, catalogue: Catalogue, plan: RestorePlan) -> RestorePlan:
    """Run the plan in a transaction that is rolled back; the plan, with what it proved.

    A rehearsal that fails refuses the plan before anyone approves it, naming the
    triggers that fire on the restore's writes when there are any.
    """
    try:
        outcome = execute_plan(engine, catalogue, plan, rehearse=True)
    except StalePlan:
        raise PlanRefused(
            "The rows changed while the preview was being prepared; preview it again."
        ) from None
    except (ValidationFailed, RestoreFailed) as exc:
        raise PlanRefused(_refusal(plan, exc)) from None
    return replace(plan, rehearsal=Rehearsal(outcome.verified, outcome.seconds))


def maybe_rehearse(
    engine: Engine, catalogue: Catalogue, plan: RestorePlan, *, up_to: int
) -> RestorePlan:
    """The plan as the preview shows it: rehearsed when a trigger fires on its writes (only
    running it shows what the trigger does) or when it is small enough to be cheap."""
    if plan.triggers or plan.rows <= up_to:
        return rehearse(engine, catalogue, plan)
    return plan


def _refusal(plan: RestorePlan, exc: VaultError) -> str:
    reason = str(exc).removesuffix(" You can request it again.")
    tables = set(re.findall(r"`([^`]+)`", reason))
    named = [
        t
        for t in plan.triggers
        if t.table in tables or tables & set(re.findall(r"`([^`]+)`", t.effect))
    ]
    if named:
        names = ", ".join(f"`{t.name}` on `{t.table}` ({t.effect})" for t in named)
        return (
            f"FlightVault rehearsed this restore and rolled it back: it cannot make the rows "
            f"equal to history because of the triggers its writes fire: {names}. {reason} "
            "Restore these rows by hand (for example with the trigger dropped for the "
            "duration), or from a backup."
        )
    return f"FlightVault rehearsed this restore and rolled it back: {reason}"


def restore_events(
    conn: Connection, catalogue: Catalogue, plan: RestorePlan, outcome: RestoreOutcome
) -> list[ChangeEvent]:
    """The restore's own statements, for planning its undo."""
    tables = sorted({s.table for s in plan.steps})
    return list_events(
        conn, catalogue, since=outcome.started, until=outcome.finished, tables=tables
    )
