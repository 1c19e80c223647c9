"""The rows of one restore step, as SQL the server evaluates.

A step undoes one statement in one table: REINSERT the versions it closed
without a successor (it deleted them), REVERT the versions it closed with a
different successor (it updated them), REMOVE the versions it opened without
a predecessor (it inserted them; a key change is a REMOVE of the new key and
a REINSERT of the old). Each row of a step is in exactly one state:

* **conflict**: changed since the damage (another writer got there), skipped;
* **done**: already equal to its version before the damage, nothing to write;
* **held**: skipped because of another row: its parent is in conflict, gone
  or held itself; or, for a removal, rows written since still reference it;
* otherwise **writable**.

The predicates read only history and the current rows, and our own writes
move a row from *writable* to *done*, never into another state, so the same
SQL gives the same answer at preview time and inside the restore transaction.
When several damaging statements touched one key (a *chain*), the steps run
newest first and the older step's row is a conflict only if a statement
outside the damage touched the key in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import BIGINT
from sqlalchemy.sql import ColumnElement, FromClause

from core.catalogue import Catalogue, ForeignKey, Precision, TableInfo
from core.history import period_value
from core.rowmatch import same_row

MAX_DEPTH = 4  # how far "held" follows parents up; deeper chains are checked by verification
_TRX_CURRENT = 18446744073709551615  # row_end of current rows under transaction precision


class StepAction(StrEnum):
    REINSERT = "reinsert"  # rows the statement deleted
    REVERT = "revert"  # rows the statement updated
    REMOVE = "remove"  # rows the statement inserted


@dataclass(frozen=True, slots=True)
class StepKey:
    """What names a step's rows: table, action and the statement's point."""

    table: str
    action: StepAction
    instant: datetime
    transaction_id: int | None
    only_deletes: bool = False  # the statement deleted but rewrote nothing in this table

    @property
    def point(self) -> datetime | int:
        return self.transaction_id if self.transaction_id is not None else self.instant


@dataclass(frozen=True)
class Scope:
    """What a step's predicates may look at besides its own rows."""

    catalogue: Catalogue
    steps: tuple[StepKey, ...]
    points: Mapping[str, tuple[Any, ...]]  # table -> every damage point that touched it
    since: tuple[datetime, int] | None = None  # inside a restore: (instant, last committed
    # transaction id) when it began; versions from then on are the restore's own
    opened: Mapping[str, frozenset[Any]] = field(default_factory=dict)  # points that opened
    # versions in the table (inserts or updates), as history counted them

    def since_for(self, table: TableInfo) -> Any | None:
        if self.since is None or table.period is None:
            return None
        trx = table.period.precision is Precision.TRANSACTION
        return self.since[1] if trx else self.since[0]


@dataclass(frozen=True)
class RowSet:
    table: TableInfo
    key: StepKey
    old: FromClause  # the version to go back to (REINSERT, REVERT)
    new: FromClause  # the version the statement left (REVERT, REMOVE)
    cur: FromClause  # the row as it is now
    source: FromClause  # what to select the step's rows from
    where: ColumnElement[bool]
    conflict: ColumnElement[bool]
    done: ColumnElement[bool]
    held: ColumnElement[bool]
    scope_since: Any | None = None  # inside a restore: where the restore's own versions begin
    chained: bool = False  # a later damaging statement may have touched some of these keys
    holds: bool = False  # some row may be held back (the table has parents, or children)
    history: FromClause | None = None  # the step's versions without the current row
    collides: ColumnElement[bool] = field(default_factory=sa.false)  # another row holds
    # one of the version's UNIQUE values now (part of ``conflict``)
    occupants: FromClause | None = None  # the current rows joined to the step's versions,
    # current rows first: for counting only the rows whose key is occupied now

    @property
    def versions(self) -> FromClause:
        """What to count the step's rows from when the current row does not matter."""
        return self.history if self.history is not None else self.driver

    @property
    def writable(self) -> ColumnElement[bool]:
        return sa.and_(sa.not_(self.conflict), sa.not_(self.done), sa.not_(self.held))

    @property
    def may_collide(self) -> bool:
        """A re-insert whose free keys can still be conflicts (another row holds one of the
        version's UNIQUE values), so counting its states reads free keys too."""
        return self.key.action is StepAction.REINSERT and bool(_other_uniques(self.table))

    @property
    def driver(self) -> FromClause:
        """The history version a row of this step is named by."""
        return self.new if self.key.action is StepAction.REMOVE else self.old


def _match(a: FromClause, b: FromClause, cols_a: Sequence[str], cols_b: Sequence[str]) -> Any:
    return sa.and_(*(a.c[x] == b.c[y] for x, y in zip(cols_a, cols_b, strict=True)))


def _versions(table: TableInfo) -> FromClause:
    return table.all_versions().alias()


def _closed(table: TableInfo, end: ColumnElement[Any]) -> ColumnElement[bool]:
    """The version ended (is history), without hard-coding the far-future row_end."""
    assert table.period is not None
    if table.period.precision is Precision.TRANSACTION:
        return end < sa.bindparam(None, _TRX_CURRENT, type_=BIGINT(unsigned=True))
    return end <= sa.func.now(sa.literal_column("6"))


def row_set(scope: Scope, key: StepKey, depth: int = 0) -> RowSet:
    table = scope.catalogue.tables[key.table]
    assert table.period is not None
    start, end, ident = table.period.start, table.period.end, table.key
    p = period_value(table, key.point)
    old, new = _versions(table), _versions(table)
    cur = table.plain_with_period().alias()
    same_key = _match(new, old, ident, ident)
    history: FromClause | None = None
    if key.action is StepAction.REMOVE:
        cur_on = _match(cur, new, ident, ident)
        earlier = _versions(table)
        where = sa.and_(
            new.c[start] == p,
            ~sa.exists().where(_match(earlier, new, ident, ident), earlier.c[end] == p),
        )
        rows: FromClause = new
    else:
        cur_on = _match(cur, old, ident, ident)
        where = old.c[end] == p
        rows = old
        if key.action is StepAction.REVERT:
            where = sa.and_(where, sa.not_(same_row(table, old, new)))
            history = rows = old.join(new, sa.and_(same_key, new.c[start] == p))
        elif not key.only_deletes:
            where = sa.and_(where, ~sa.exists().where(same_key, new.c[start] == p))
    source = rows.outerjoin(cur, cur_on)
    nothing = sa.false()
    since = scope.since_for(table)
    chained = bool(_later_points(scope, key))
    base = RowSet(
        table, key, old, new, cur, source, where, nothing, nothing, nothing, since, chained
    )
    base = replace(base, occupants=cur.join(rows, cur_on))
    if key.action is StepAction.REVERT:
        base = replace(base, history=history)
    base = replace(base, collides=_collides(scope, base))
    conflict, done = _states(scope, base)
    held = _held(scope, base, depth)
    return replace(base, conflict=conflict, done=done, held=held, holds=held is not nothing)


def _states(scope: Scope, rs: RowSet) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(conflict, done) for each row, from the current row and the step's versions."""
    t, cur = rs.table, rs.cur
    present = cur.c[t.key[0]].is_not(None)
    action = rs.key.action
    if action is StepAction.REINSERT:
        conflict = sa.and_(present, sa.not_(same_row(t, cur, rs.old)))
        done = sa.and_(present, same_row(t, cur, rs.old))
    elif action is StepAction.REVERT:
        conflict = sa.and_(
            sa.not_(sa.and_(present, same_row(t, cur, rs.new))),
            sa.not_(sa.and_(present, same_row(t, cur, rs.old))),
        )
        done = sa.and_(present, same_row(t, cur, rs.old))
    else:
        conflict = sa.and_(present, sa.not_(same_row(t, cur, rs.new)))
        done = sa.not_(present)
    if rs.chained:
        chained = _touched_at(rs, _later_points(scope, rs.key))
        outside = _touched_outside(scope, rs)
        conflict = sa.or_(sa.and_(chained, outside), sa.and_(sa.not_(chained), conflict))
        done = sa.and_(sa.not_(chained), done)
    if _other_uniques(rs.table) and rs.key.action is not StepAction.REMOVE:
        conflict = sa.or_(conflict, sa.and_(sa.not_(done), rs.collides))
    return conflict, done


def _other_uniques(table: TableInfo) -> list[tuple[str, ...]]:
    return [k for k in table.unique_keys if tuple(k) != tuple(table.key)]


def _collides(scope: Scope, rs: RowSet) -> ColumnElement[bool]:
    """Another row, not written by the damage (nor by this restore), holds one of the
    version's UNIQUE values now: a key re-created by hand under another identity. Writing
    the version back would hit that key, so the row is a conflict."""
    t = rs.table
    keys = _other_uniques(t)
    if not keys or rs.key.action is StepAction.REMOVE:
        return sa.false()
    assert t.period is not None
    damage = [period_value(t, p) for p in scope.points.get(t.name, ())]
    since = scope.since_for(t)
    found: list[ColumnElement[bool]] = []
    for cols in keys:
        other = t.plain_with_period().alias()
        began = other.c[t.period.start]
        cond = [
            *(other.c[c] == rs.old.c[c] for c in cols),
            sa.not_(_match(other, rs.old, t.key, t.key)),
            began.not_in(damage),
        ]
        if since is not None:
            bound = period_value(t, since)
            cond.append(began < bound if isinstance(since, datetime) else began <= bound)
        found.append(sa.exists().where(*cond))
    return sa.or_(*found)


def _later_points(scope: Scope, key: StepKey) -> list[Any]:
    return [p for p in scope.points.get(key.table, ()) if p > key.point]


def touched_earlier(scope: Scope, rs: RowSet) -> ColumnElement[bool]:
    """An older damaging statement touched this row's key too: that one decides its target."""
    earlier = [p for p in scope.points.get(rs.table.name, ()) if p < rs.key.point]
    return _touched_at(rs, earlier) if earlier else sa.false()


def _touched_at(rs: RowSet, points: Sequence[Any]) -> ColumnElement[bool]:
    """A later damaging statement touched this row's key too."""
    t = rs.table
    assert t.period is not None
    v = _versions(t)
    values = [period_value(t, p) for p in points]
    return sa.exists().where(
        _match(v, rs.driver, t.key, t.key),
        sa.or_(v.c[t.period.end].in_(values), v.c[t.period.start].in_(values)),
    )


def _touched_outside(scope: Scope, rs: RowSet) -> ColumnElement[bool]:
    """A statement that is not part of the damage touched the key after this step's point
    (and before the restore began): the chain of damaging statements is broken."""
    t = rs.table
    assert t.period is not None
    v = _versions(t)
    start, end = v.c[t.period.start], v.c[t.period.end]
    mine = period_value(t, rs.key.point)
    damage = [period_value(t, p) for p in scope.points.get(t.name, ())]
    began = [start > mine, start.not_in(damage)]
    ended = [end > mine, end.not_in(damage), _closed(t, end)]
    since = scope.since_for(t)
    if since is not None:
        bound = period_value(t, since)
        began.append(start < bound if isinstance(since, datetime) else start <= bound)
        ended.append(end < bound if isinstance(since, datetime) else end <= bound)
    return sa.exists().where(
        _match(v, rs.driver, t.key, t.key), sa.or_(sa.and_(*began), sa.and_(*ended))
    )


# --------------------------------------------------------------------------- held rows


def _held(scope: Scope, rs: RowSet, depth: int) -> ColumnElement[bool]:
    if depth >= MAX_DEPTH:
        return sa.false()
    reasons: list[ColumnElement[bool]] = []
    if rs.key.action is not StepAction.REINSERT:  # a removal, or a revert changing a value
        reasons += _still_referenced(scope, rs)  # that newer rows point at
    if rs.key.action is not StepAction.REMOVE:
        found = [_parent_problem(scope, rs, fk, depth) for fk in rs.table.outgoing]
        reasons += [r for r in found if r is not None]
    if rs.chained:
        reasons += _newer_trouble(scope, rs, depth)
    return sa.or_(*reasons) if reasons else sa.false()


def _after(a: StepKey, b: StepKey) -> bool:
    """``a``'s statement came after ``b``'s (both in one table, so of one precision)."""
    if a.transaction_id is not None and b.transaction_id is not None:
        return a.transaction_id > b.transaction_id
    return a.instant > b.instant


def _newer_trouble(scope: Scope, rs: RowSet, depth: int) -> list[ColumnElement[bool]]:
    """A newer damaging statement's step skips this key (conflict or held): then so must
    this older one, or it would write under a row the newer step left in place."""
    out: list[ColumnElement[bool]] = []
    ident = rs.table.key
    for key in scope.steps:
        if key.table != rs.table.name or not _after(key, rs.key):
            continue
        other = row_set(scope, key, depth + 1)
        same = _match(other.driver, rs.driver, ident, ident)
        out.append(
            sa.select(sa.literal(1))
            .select_from(other.source)
            .where(other.where, same, sa.or_(other.conflict, other.held))
            .exists()
        )
    return out


def _parent_problem(
    scope: Scope, rs: RowSet, fk: ForeignKey, depth: int
) -> ColumnElement[bool] | None:
    """The row's parent (as the row will reference it) will not be the parent it had:
    it is in conflict, held, or neither there now nor brought back by this plan."""
    parent = scope.catalogue.tables.get(fk.parent_table)
    if parent is None or fk.parent_schema != scope.catalogue.schema:
        return None
    refs = [rs.old.c[c] for c in fk.child_columns]
    now = parent.plain().alias()
    present = sa.exists().where(
        *(now.c[p] == r for p, r in zip(fk.parent_columns, refs, strict=True))
    )
    restored: list[ColumnElement[bool]] = []
    trouble: list[ColumnElement[bool]] = []
    for key in scope.steps:
        if key.table != parent.name or key.action is StepAction.REMOVE:
            continue
        other = row_set(scope, key, depth + 1)
        match = [other.old.c[p] == r for p, r in zip(fk.parent_columns, refs, strict=True)]
        base = sa.select(sa.literal(1)).select_from(other.source).where(other.where, *match)
        restored.append(base.where(other.writable).exists())
        trouble.append(base.where(sa.or_(other.conflict, other.held)).exists())
    missing = sa.not_(sa.or_(present, *restored))
    unset = sa.or_(*(r.is_(None) for r in refs))
    return sa.and_(sa.not_(unset), sa.or_(missing, *trouble))


def _still_referenced(scope: Scope, rs: RowSet) -> list[ColumnElement[bool]]:
    """Rows written since the damage point at the values the statement left (a row we
    would remove, or a UNIQUE value a revert would change back): they would dangle."""
    reasons: list[ColumnElement[bool]] = []
    for fk in rs.table.incoming:
        child = scope.catalogue.tables.get(fk.child_table)
        if child is None or fk.child_schema != scope.catalogue.schema:
            continue
        kids = child.plain_with_period().alias()
        refs = [
            kids.c[c] == rs.new.c[p]
            for c, p in zip(fk.child_columns, fk.parent_columns, strict=True)
        ]
        cond = [*refs]
        if rs.key.action is StepAction.REVERT:  # only where the revert changes the value
            cond.append(
                sa.not_(
                    sa.and_(
                        *(rs.old.c[p].is_not_distinct_from(rs.new.c[p]) for p in fk.parent_columns)
                    )
                )
            )
        if child.period is not None and scope.points.get(child.name):
            damage = [period_value(child, p) for p in scope.points[child.name]]
            cond.append(kids.c[child.period.start].not_in(damage))  # not left by the damage
        since = scope.since_for(child)
        if child.period is not None and since is not None:  # nor put there by this restore:
            began = kids.c[child.period.start]  # a later step of it sets them right
            bound = period_value(child, since)
            cond.append(began < bound if isinstance(since, datetime) else began <= bound)
        reasons.append(sa.exists().where(*cond))
    return reasons
