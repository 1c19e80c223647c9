"""Restore plans: exactly what a surgical restore would write, and nothing else.

A plan undoes specific statements, listed in it. Their footprint (every row
version they closed or opened, in every versioned table: cascades at any
depth, SET NULL children, key changes, trigger side effects) is read from
history, and for each statement and table there is a step: rows it deleted
are re-inserted, rows it updated are reverted, rows it inserted are removed.
The rows are never listed in Python: each step names a statement's point and
the server finds the rows (``core.rowsets``). Rows changed since are
conflicts, rows whose parent is in conflict or gone are held back, rows
already equal to history need nothing; all three are counted and sampled.

The fingerprint is computed by the server over the history rows the plan
would write and the current state of their keys; if any of them changes
between preview and execution, the fingerprint changes and the plan is stale.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import TABLES as _TABLES
from core.catalogue import Catalogue, Precision
from core.errors import VaultError
from core.footprint import footprint
from core.history import ChangeEvent
from core.jsonable import Jsonable
from core.privileges import grantee, missing_restore_privileges
from core.rowmatch import history_crc, row_hash
from core.rowsets import RowSet, Scope, StepAction, StepKey, row_set
from core.sample import shorten
from core.timeutil import fmt_instant, from_db
from core.triggers import TriggerNote, firing_triggers, write_order

SAMPLE = 5

__all__ = ["PlanRefused", "RestorePlan", "Step", "StepAction", "TableSummary", "build_plan"]


class PlanRefused(VaultError):
    """The restore cannot be planned safely (DDL after the damage, nothing to do, a trigger
    that would rewrite the restored rows)."""


@dataclass(frozen=True, slots=True)
class Step:
    table: str
    action: StepAction
    instant: datetime
    transaction_id: int | None
    rows: int = 0
    conflicts: int = 0  # changed since the damage: skipped
    checksum: int = 0  # of the keys of the history versions to write back: immutable, once
    only_deletes: bool = False  # the statement deleted but rewrote nothing in this table
    done: int = 0  # already equal to history: nothing to write
    held: int = 0  # skipped because of another row (parent in conflict or gone, still referenced)

    @property
    def writes(self) -> int:
        return self.rows - self.conflicts - self.done - self.held

    @property
    def skipped(self) -> int:
        return self.conflicts + self.held

    @property
    def key(self) -> StepKey:
        return StepKey(
            self.table, self.action, self.instant, self.transaction_id, self.only_deletes
        )


@dataclass(frozen=True, slots=True)
class TableSummary:
    table: str
    reinsert: int = 0
    revert: int = 0
    remove: int = 0
    conflicts: int = 0
    repaired: int = 0  # dangling references in other tables the re-inserts repair
    conflict_sample: tuple[str, ...] = ()
    held: int = 0
    held_sample: tuple[str, ...] = ()
    done: int = 0
    keys_skipped: int | None = None  # distinct rows, when several statements touched one

    @property
    def skipped(self) -> int:
        """Rows left as they are now; a row two damaging statements touched counts once."""
        return self.keys_skipped if self.keys_skipped is not None else self.conflicts + self.held


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """The plan run in a transaction that was rolled back, with its verification."""

    verified: int
    seconds: float


@dataclass(frozen=True)
class RestorePlan(Jsonable):
    table: str
    restore_point: datetime
    steps: tuple[Step, ...]
    tables: tuple[TableSummary, ...]
    unrecoverable: tuple[str, ...] = ()
    fingerprint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    statements: tuple[ChangeEvent, ...] = ()  # the damage, as the preview lists it
    triggers: tuple[TriggerNote, ...] = ()  # triggers the restore's writes fire
    rehearsal: Rehearsal | None = None

    @property
    def rows(self) -> int:
        return sum(s.writes for s in self.steps)

    @property
    def skipped(self) -> int:
        return sum(t.skipped for t in self.tables)

    def scope(self, catalogue: Catalogue, since: tuple[datetime, int] | None = None) -> Scope:
        return make_scope(catalogue, [s.key for s in self.steps], self.statements, since)


def make_scope(
    catalogue: Catalogue,
    keys: Sequence[StepKey],
    statements: Iterable[ChangeEvent],
    since: tuple[datetime, int] | None = None,
) -> Scope:
    """Each table's damage points in its own precision, for the chain checks, and which of
    them opened versions there (so verification need not look for inserted rows elsewhere)."""
    points: dict[str, list[Any]] = defaultdict(list)
    opened: dict[str, set[Any]] = defaultdict(set)
    for event in statements:
        for change in event.changes:
            info = catalogue.tables.get(change.table)
            if info is None or info.period is None:
                continue
            trx = info.period.precision is Precision.TRANSACTION
            point = event.transaction_id if trx else event.instant
            if point is None:
                continue
            points[change.table].append(point)
            if change.inserted or change.updated or change.unchanged:
                opened[change.table].add(point)
    return Scope(
        catalogue,
        tuple(keys),
        {t: tuple(sorted(p)) for t, p in points.items()},
        since,
        {t: frozenset(p) for t, p in opened.items()},
    )


# --------------------------------------------------------------------------- steps


def _raw_steps(catalogue: Catalogue, statements: Sequence[ChangeEvent]) -> list[Step]:
    raw: list[Step] = []
    for event in statements:
        for change in event.changes:
            info = catalogue.tables.get(change.table)
            if info is None or not info.key or not info.transactional:
                continue
            only_deletes = not (change.updated or change.unchanged)
            for action, count in (
                (StepAction.REINSERT, change.deleted),
                (StepAction.REVERT, change.updated),
                (StepAction.REMOVE, change.inserted),
            ):
                if count:
                    step = Step(change.table, action, event.instant, event.transaction_id)
                    raw.append(replace(step, only_deletes=only_deletes))
    return raw


_PHASE = {StepAction.REMOVE: 0, StepAction.REVERT: 1, StepAction.REINSERT: 2}


def _order(catalogue: Catalogue, steps: list[Step]) -> list[Step]:
    """Newest statement first (so chains unwind); within one, removals children-first, then
    reverts and re-inserts parents-first (a table a trigger writes counts as a child of the
    trigger's table). In one table, removals and reverts free the key and UNIQUE values a
    re-insert needs before it runs."""
    depth = write_order(catalogue, {s.table for s in steps})

    def key(s: Step) -> tuple[float, int, int, str, int]:
        first = s.action is StepAction.REMOVE
        d = depth.get(s.table, 0)
        return (
            -s.instant.timestamp(),
            0 if first else 1,
            -d if first else d,
            s.table,
            _PHASE[s.action],
        )

    return sorted(steps, key=key)


def _count(cond: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _stats(conn: Connection, rs: RowSet) -> tuple[int, int, int, int, int]:
    """(rows, conflicts, done, held, checksum of the history versions' keys).

    Counted in parts so that each part reads what it must: the rows and their checksum
    from history alone, the conflicts from the rows occupying the keys now (few, when the
    damage emptied the table), the held rows only where a parent or child can hold them.

    The checksum covers keys, which the ``row_end`` index holds: a million versions are
    read from the index, never from the table. A version is named by its key and the
    step's instant, and its values cannot change once it closed short of DDL, which
    ``check_no_ddl_since`` refuses; the restore itself is verified value by value.
    """
    history = history_crc([rs.driver.c[c] for c in rs.table.key])
    rows, checksum = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.bit_xor(history), 0))
        .select_from(rs.versions)
        .where(rs.where)
    ).one()
    rows, checksum = int(rows), int(checksum)
    if rs.chained:  # a chain's states do not follow from the current row alone
        conflicts, done = (int(v) for v in _scan(conn, rs, rs.conflict, rs.done))
    else:
        conflicts, done = _occupied(conn, rs, rows)
    held = 0
    if rs.holds:
        free = sa.and_(sa.not_(rs.conflict), sa.not_(rs.done), rs.held)
        (held,) = (int(v) for v in _scan(conn, rs, free))
    return rows, conflicts, done, held, checksum


def _scan(conn: Connection, rs: RowSet, *conds: Any) -> tuple[Any, ...]:
    stmt = sa.select(*(_count(c) for c in conds)).select_from(rs.source).where(rs.where)
    return tuple(conn.execute(stmt).one())


def _occupied(conn: Connection, rs: RowSet, rows: int) -> tuple[int, int]:
    """(conflicts, done) from the keys occupied now; an empty key is done for a removal
    and a conflict for a revert (the row it would revert is gone). A free key whose
    UNIQUE value another row holds now is a conflict too."""
    present = rs.cur.c[rs.table.key[0]].is_not(None)
    colliding = sa.and_(sa.not_(present), rs.conflict)
    counts = (
        _count(present),
        _count(sa.and_(present, rs.conflict)),
        _count(sa.and_(present, rs.done)),
        _count(colliding) if rs.may_collide else sa.literal(0),
    )
    if rs.may_collide:  # free keys matter too: every row of the step is read
        stmt = (
            sa.select(*counts).select_from(rs.source).where(rs.where, sa.or_(present, rs.collides))
        )
    else:
        stmt = occupied_rows(conn, rs, rows, *counts)
    occupied, conflicts, done, collisions = (int(v) for v in conn.execute(stmt).one())
    if rs.key.action is StepAction.REMOVE:
        return conflicts, rows - occupied
    if rs.key.action is StepAction.REVERT:
        return conflicts + rows - occupied, done
    return conflicts + collisions, done


def occupied_rows(conn: Connection, rs: RowSet, rows: int, *columns: Any) -> sa.Select[Any]:
    """``columns`` over the step's rows whose key is occupied now.

    Read from the step's versions out to the current rows, as a rule; but when fewer
    rows stand in the table now than the step has (a table the damage emptied), from
    the current rows in to the versions (``STRAIGHT_JOIN``), and not at all when none
    stands: a million lookups of keys that are gone become none. Deciding costs a
    count of at most ``rows`` current rows.
    """
    present = rs.cur.c[rs.table.key[0]].is_not(None)
    standing = _rows_now(conn, rs, rows) if rs.occupants is not None and rows > 0 else rows
    if standing == 0:  # nothing stands in the table: no key is occupied
        return sa.select(*columns).select_from(rs.source).where(sa.false())
    if rs.occupants is not None and standing < rows:
        return (
            sa.select(*columns)
            .select_from(rs.occupants)
            .where(rs.where, present)
            .prefix_with("STRAIGHT_JOIN")
        )
    return sa.select(*columns).select_from(rs.source).where(rs.where, present)


def _rows_now(conn: Connection, rs: RowSet, rows: int) -> int:
    """Rows in the table now, counted up to ``rows`` (it stops there)."""
    now = sa.select(sa.literal(1)).select_from(rs.table.plain()).limit(rows).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(now)).scalar_one())


def current_state(conn: Connection, rs: RowSet, rows: int = 0) -> tuple[int, int]:
    """(rows occupying the step's keys now, checksum of those rows with their period);
    ``rows``, the step's row count when known, lets a nearly empty table be read first."""
    t = rs.table
    assert t.period is not None
    cur_cols = [rs.cur.c[c] for c in t.version_columns]
    checksum_of = sa.func.coalesce(sa.func.bit_xor(row_hash(cur_cols)), 0)
    occupied, checksum = conn.execute(
        occupied_rows(conn, rs, rows, sa.func.count(), checksum_of)
    ).one()
    return int(occupied), int(checksum)


def fingerprint_of(
    conn: Connection, scope: Scope, steps: Sequence[Step], *, counted: bool = False
) -> str:
    """What the plan would write and what stands on its keys now, in 16 hex digits.

    The history rows are counted again (history can be purged, ``DELETE HISTORY``, between
    preview and approval), unless ``counted``: the steps were counted just now, while the
    plan was built; their checksum is the plan's, history being append-only."""
    digest = hashlib.sha256()
    for step in steps:
        rs = row_set(scope, step.key)
        occupied, cur_sum = current_state(conn, rs, step.rows)
        rows = step.rows
        if not counted:
            rows = conn.execute(
                sa.select(sa.func.count()).select_from(rs.versions).where(rs.where)
            ).scalar_one()
        part = [step.table, step.action, step.instant.isoformat(), step.transaction_id]
        digest.update(json.dumps([*part, int(rows), step.checksum, occupied, cur_sum]).encode())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- checks


def last_ddl(conn: Connection, catalogue: Catalogue, tables: set[str]) -> datetime | None:
    """When any of ``tables`` was last created or altered (second precision)."""
    value = conn.execute(
        sa.select(sa.func.max(_TABLES.c.CREATE_TIME)).where(
            _TABLES.c.TABLE_SCHEMA == catalogue.schema, _TABLES.c.TABLE_NAME.in_(sorted(tables))
        )
    ).scalar_one_or_none()
    return from_db(value) if value is not None else None


def check_no_ddl_since(
    conn: Connection, catalogue: Catalogue, tables: set[str], since: datetime
) -> None:
    rows = conn.execute(
        sa.select(_TABLES.c.TABLE_NAME, _TABLES.c.CREATE_TIME).where(
            _TABLES.c.TABLE_SCHEMA == catalogue.schema, _TABLES.c.TABLE_NAME.in_(sorted(tables))
        )
    )
    for name, created in rows:
        if created is not None and from_db(created) > since.replace(microsecond=0):
            raise PlanRefused(
                f"`{name}` was altered at {fmt_instant(from_db(created))}, after the damage; "
                "FlightVault will not restore across DDL. Restore by hand or from a backup."
            )


def check_restore_privileges(conn: Connection, catalogue: Catalogue, tables: set[str]) -> None:
    """Refuse, naming the grant, when the account could not write ``tables`` back."""
    missing = missing_restore_privileges(conn, catalogue.schema, tables)
    if missing:
        who = grantee(conn)
        raise PlanRefused(
            f"FlightVault's database account {who} can watch but not restore: it needs "
            f"GRANT {', '.join(missing)} ON `{catalogue.schema}`.* TO {who}. Nothing changed."
        )


# --------------------------------------------------------------------------- building


def build_plan(
    conn: Connection,
    catalogue: Catalogue,
    *,
    table: str,
    events: list[ChangeEvent],
    restore_point: datetime,
    extra: dict[str, Any] | None = None,
) -> RestorePlan:
    """Plan the undoing of ``events`` (oldest first) in every table they reached."""
    statements, lost = footprint(conn, catalogue, events)
    raw = _raw_steps(catalogue, statements)
    if not raw:
        why = f" ({lost[0].describe()})" if lost else ""
        raise PlanRefused(f"Those statements left nothing FlightVault can restore{why}.")
    touched = {s.table for s in raw}
    check_restore_privileges(conn, catalogue, touched)
    check_no_ddl_since(conn, catalogue, touched, min(e.instant for e in statements))
    ordered = _order(catalogue, raw)
    scope = make_scope(catalogue, [s.key for s in ordered], statements)
    steps = []
    for step in ordered:
        rows, conflicts, done, held, checksum = _stats(conn, row_set(scope, step.key))
        steps.append(
            replace(step, rows=rows, conflicts=conflicts, done=done, held=held, checksum=checksum)
        )
    return RestorePlan(
        table=table,
        restore_point=restore_point,
        steps=tuple(steps),
        tables=_summaries(conn, scope, steps),
        unrecoverable=tuple(u.describe() for u in lost),
        fingerprint=fingerprint_of(conn, scope, steps, counted=True),
        extra=dict(extra or {}),
        statements=tuple(statements),
        triggers=tuple(firing_triggers(catalogue, steps)),
    )


def current_fingerprint(conn: Connection, catalogue: Catalogue, plan: RestorePlan) -> str:
    """The fingerprint the plan would have if it were built now."""
    return fingerprint_of(conn, plan.scope(catalogue), plan.steps)


# --------------------------------------------------------------------------- summaries


def _sample(conn: Connection, rs: RowSet, cond: Any) -> list[str]:
    keys = [rs.driver.c[k] for k in rs.table.key]
    stmt = sa.select(*keys).select_from(rs.source).where(rs.where, cond).limit(SAMPLE)
    return [", ".join(shorten(v) for v in row) for row in conn.execute(stmt)]


def _summaries(conn: Connection, scope: Scope, steps: list[Step]) -> tuple[TableSummary, ...]:
    out: list[TableSummary] = []
    for name in dict.fromkeys(s.table for s in steps):
        mine = [s for s in steps if s.table == name]
        conflicts: list[str] = []
        held: list[str] = []
        repaired = 0
        for s in mine:
            rs = row_set(scope, s.key)
            if s.conflicts and len(conflicts) < SAMPLE:
                conflicts += _sample(conn, rs, rs.conflict)
            if s.held and len(held) < SAMPLE:
                held += _sample(conn, rs, sa.and_(rs.held, sa.not_(rs.conflict)))
            if s.action is StepAction.REINSERT and s.writes:
                repaired += repaired_references(conn, scope, rs)
        out.append(
            TableSummary(
                table=name,
                reinsert=sum(s.writes for s in mine if s.action is StepAction.REINSERT),
                revert=sum(s.writes for s in mine if s.action is StepAction.REVERT),
                remove=sum(s.writes for s in mine if s.action is StepAction.REMOVE),
                conflicts=sum(s.conflicts for s in mine),
                repaired=repaired,
                conflict_sample=tuple(conflicts[:SAMPLE]),
                held=sum(s.held for s in mine),
                held_sample=tuple(held[:SAMPLE]),
                done=sum(s.done for s in mine),
                keys_skipped=_distinct_skips(conn, scope, mine),
            )
        )
    return tuple(out)


def _distinct_skips(conn: Connection, scope: Scope, steps: list[Step]) -> int | None:
    """Rows skipped in one table, each once, when its steps can share rows (a chain)."""
    sets = [row_set(scope, s.key) for s in steps if s.skipped]
    if not any(rs.chained for rs in sets):
        return None
    ident = sets[0].table.key
    keys = sa.union(
        *(
            sa.select(*(rs.driver.c[k].label(k) for k in ident))
            .select_from(rs.source)
            .where(rs.where, sa.or_(rs.conflict, rs.held))
            for rs in sets
        )
    ).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(keys)).scalar_one())


def repaired_references(conn: Connection, scope: Scope, rs: RowSet) -> int:
    """Rows elsewhere pointing now at keys this re-insert brings back: dangling until then."""
    total = 0
    for fk in rs.table.incoming:
        child = scope.catalogue.tables.get(fk.child_table)
        if child is None or fk.child_schema != scope.catalogue.schema:
            continue
        kids = child.plain().alias()
        on = sa.and_(
            *(
                kids.c[c] == rs.old.c[p]
                for c, p in zip(fk.child_columns, fk.parent_columns, strict=True)
            )
        )
        stmt = (
            sa.select(sa.func.count())
            .select_from(rs.source.join(kids, on))
            .where(rs.where, rs.writable)
        )
        total += int(conn.execute(stmt).scalar_one())
    return total
