"""Did the restore put the footprint back? Checked against history, row by row.

This does not look at the plan's steps or their counts. From the damaging
statements' points alone it reads, per table, every row version each
statement closed or opened, and compares each key's current row, byte for
byte, with its version just before the first damaging statement that touched
it (or checks it is absent, for rows the damage inserted). The only rows
allowed to differ are the ones the preview said would be skipped (conflicts,
and rows held back with a conflicting parent), so their number must match
exactly; anything else is a difference, and the restore rolls back.

References are checked in the same queries: a restored row must not point at
a parent that is not there, and no row may point at a key the restore removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, FromClause

from core.catalogue import ForeignKey, TableInfo
from core.history import period_value
from core.rowmatch import differing_columns, same_row
from core.rowsets import Scope
from core.sample import shorten

SAMPLE = 3


@dataclass(frozen=True, slots=True)
class TableCheck:
    table: str
    rows: int  # footprint rows checked
    differ: int  # rows not equal to their version before the damage
    expected: int  # rows the preview said would be skipped
    sample: tuple[str, ...] = ()  # "key: columns that differ"
    dangling: int = 0  # references the restore broke (to or from this table's rows)
    written_wrong: int = 0  # differing rows this restore wrote: never a previewed skip

    @property
    def ok(self) -> bool:
        return self.differ == self.expected and self.dangling == 0 and self.written_wrong == 0

    def describe(self) -> str:
        extra = f" (e.g. {'; '.join(self.sample)})" if self.sample else ""
        refs = f", and {self.dangling:,} references would dangle" if self.dangling else ""
        mine = (
            f", {self.written_wrong:,} of them written by this restore"
            if self.written_wrong
            else ""
        )
        return (
            f"`{self.table}`: {self.differ:,} of {self.rows:,} rows differ from history where "
            f"the preview expected {self.expected:,}{mine}{extra}{refs}"
        )


@dataclass(frozen=True, slots=True)
class Verification:
    tables: tuple[TableCheck, ...]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def verified(self) -> int:
        """Rows now equal to their version before the damage."""
        return sum(t.rows - t.differ for t in self.tables)

    def failures(self) -> str:
        return "; ".join(t.describe() for t in self.tables if not t.ok)


@dataclass
class _Tally:
    rows: int = 0
    differ: int = 0
    dangling: int = 0
    written_wrong: int = 0

    def add(self, counts: tuple[int, int, int, int]) -> None:
        rows, differ, dangling, wrong = counts
        self.rows += rows
        self.differ += differ
        self.dangling += dangling
        self.written_wrong += wrong


def verify(conn: Connection, scope: Scope, expected: dict[str, int]) -> Verification:
    """Check every table the damage touched (that the plan could restore)."""
    checks = []
    for name, points in scope.points.items():
        table = scope.catalogue.tables[name]
        if table.key and table.transactional:
            checks.append(check_table(conn, scope, table, points, expected.get(name, 0)))
    return Verification(tuple(checks))


def check_table(
    conn: Connection, scope: Scope, table: TableInfo, points: Sequence[Any], expected: int
) -> TableCheck:
    """Every key the damage touched in ``table`` against its version before the damage."""
    tally, sample = _Tally(), list[str]()
    opened = scope.opened.get(table.name, frozenset())
    for n, point in enumerate(points):
        earlier = list(points[:n])
        for check, needed in ((_closed_at, True), (_opened_at, point in opened)):
            if needed:
                rows, differ, dangling, wrong, found = check(conn, scope, table, point, earlier)
                tally.add((rows, differ, dangling, wrong))
                sample += found[: SAMPLE - len(sample)]
    return TableCheck(
        table.name,
        tally.rows,
        tally.differ,
        expected,
        tuple(sample),
        tally.dangling,
        tally.written_wrong,
    )


def _mine(scope: Scope, table: TableInfo, cur: FromClause) -> ColumnElement[bool]:
    """The current row was written by the running restore (false outside a restore)."""
    since = scope.since_for(table)
    if since is None or table.period is None:
        return sa.false()
    began = cur.c[table.period.start]
    bound = period_value(table, since)
    return began >= bound if isinstance(since, datetime) else began > bound


# --------------------------------------------------------------------------- queries


def _versions(table: TableInfo) -> FromClause:
    return table.all_versions().alias()


def _same_key(a: FromClause, b: FromClause, key: Sequence[str]) -> ColumnElement[bool]:
    return sa.and_(*(a.c[k] == b.c[k] for k in key))


def _first_touch(table: TableInfo, v: FromClause, earlier: list[Any]) -> ColumnElement[bool]:
    """The key was not touched by an earlier damaging statement (that one decides its target)."""
    if not earlier:
        return sa.true()
    assert table.period is not None
    w = _versions(table)
    values = [period_value(table, p) for p in earlier]
    return ~sa.exists().where(
        _same_key(w, v, table.key),
        sa.or_(w.c[table.period.end].in_(values), w.c[table.period.start].in_(values)),
    )


def _sum(cond: ColumnElement[bool]) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _local(scope: Scope, fk: ForeignKey) -> bool:
    cat = scope.catalogue
    return (
        fk.child_schema == cat.schema
        and fk.parent_schema == cat.schema
        and fk.child_table in cat.tables
        and fk.parent_table in cat.tables
    )


def _resolves(scope: Scope, fk: ForeignKey, refs: Sequence[ColumnElement[Any]]) -> Any:
    now = scope.catalogue.tables[fk.parent_table].plain().alias()
    return sa.exists().where(*(now.c[p] == r for p, r in zip(fk.parent_columns, refs, strict=True)))


def _parent_joins(
    scope: Scope, table: TableInfo, row: FromClause
) -> tuple[FromClause, list[ColumnElement[bool]]]:
    """``row`` left-joined to each parent it references by a unique key, and per foreign key
    "this reference points at nothing now" (NULL references point nowhere, by design).

    A join costs less than a correlated EXISTS per row; a parent key that is not unique
    (InnoDB allows that) keeps the EXISTS so no row is counted twice."""
    joined: FromClause = row
    dangling: list[ColumnElement[bool]] = []
    for fk in table.outgoing:
        if not _local(scope, fk):
            continue
        parent = scope.catalogue.tables[fk.parent_table]
        refs = [row.c[c] for c in fk.child_columns]
        set_ = sa.and_(*(r.is_not(None) for r in refs))
        if tuple(fk.parent_columns) in (parent.key, *parent.unique_keys):
            now = parent.plain().alias()
            on = sa.and_(*(now.c[p] == r for p, r in zip(fk.parent_columns, refs, strict=True)))
            joined = joined.outerjoin(now, on)
            dangling.append(sa.and_(set_, now.c[fk.parent_columns[0]].is_(None)))
        else:
            dangling.append(sa.and_(set_, ~_resolves(scope, fk, refs)))
    return joined, dangling


def _closed_at(
    conn: Connection, scope: Scope, table: TableInfo, point: Any, earlier: list[Any]
) -> tuple[int, int, int, int, list[str]]:
    """Versions the statement closed: each key must now hold exactly that version, and a
    row the restore put back must not point at a missing parent."""
    assert table.period is not None
    old = _versions(table)
    cur = table.plain_with_period().alias()
    joined = old.outerjoin(cur, _same_key(cur, old, table.key))
    p = period_value(table, point)
    where = [old.c[table.period.end] == p, _first_touch(table, old, earlier)]
    if point in scope.opened.get(table.name, ()):  # leave out rows the statement rewrote as
        same = _versions(table)  # they were (a no-op UPDATE): it changed nothing there
        where.append(
            ~sa.exists().where(
                _same_key(same, old, table.key),
                same.c[table.period.start] == p,
                same_row(table, same, old),
            )
        )
    back = sa.and_(cur.c[table.key[0]].is_not(None), same_row(table, cur, old))
    with_parents, dangling = _parent_joins(scope, table, cur)
    if dangling:
        joined = old.outerjoin(with_parents, _same_key(cur, old, table.key))
    dangles = sa.or_(*dangling) if dangling else sa.false()
    wrong = sa.and_(sa.not_(back), cur.c[table.key[0]].is_not(None), _mine(scope, table, cur))
    stmt = (
        sa.select(
            sa.func.count(),
            _sum(sa.not_(back)),
            _sum(sa.and_(back, dangles)),
            _sum(wrong),
        )
        .select_from(joined)
        .where(*where)
    )
    rows, bad, broken, mine = (int(v) for v in conn.execute(stmt).one())
    found = _closed_sample(conn, table, old, cur, joined, [*where, sa.not_(back)]) if bad else []
    return rows, bad, broken, mine, found


def _closed_sample(
    conn: Connection,
    table: TableInfo,
    old: FromClause,
    cur: FromClause,
    joined: FromClause,
    where: list[Any],
) -> list[str]:
    cols = differing_columns(table, cur, old)
    stmt = (
        sa.select(
            *(old.c[k] for k in table.key),
            cur.c[table.key[0]].is_(None),
            *(d for _, d in cols),
        )
        .select_from(joined)
        .where(*where)
        .limit(SAMPLE)
    )
    out = []
    width = len(table.key)
    for row in conn.execute(stmt):
        key = ", ".join(shorten(v) for v in row[:width])
        flags = row[width + 1 :]
        what = (
            "missing"
            if row[width]
            else ", ".join(c for (c, _), f in zip(cols, flags, strict=True) if f)
        )
        out.append(f"{key}: {what}")
    return out


def _opened_at(
    conn: Connection, scope: Scope, table: TableInfo, point: Any, earlier: list[Any]
) -> tuple[int, int, int, int, list[str]]:
    """Rows the statement inserted (a version opened with no version closed at the same
    point): each key must now be absent; and nothing may point at values the statement
    created that are gone now (a removed key, a UNIQUE value reverted)."""
    assert table.period is not None
    new, prior = _versions(table), _versions(table)
    cur = table.plain_with_period().alias()
    p = period_value(table, point)
    inserted = [
        new.c[table.period.start] == p,
        ~sa.exists().where(_same_key(prior, new, table.key), prior.c[table.period.end] == p),
        _first_touch(table, new, earlier),
    ]
    joined = new.outerjoin(cur, _same_key(cur, new, table.key))
    present = cur.c[table.key[0]].is_not(None)
    stmt = (
        sa.select(sa.func.count(), _sum(present), _sum(sa.and_(present, _mine(scope, table, cur))))
        .select_from(joined)
        .where(*inserted)
    )
    rows, bad, mine = (int(v) for v in conn.execute(stmt).one())
    found = []
    if bad:
        keys = sa.select(*(new.c[k] for k in table.key)).select_from(joined)
        for row in conn.execute(keys.where(*inserted, present).limit(SAMPLE)):
            found.append(f"{', '.join(shorten(v) for v in row)}: still present")
    # every version the statement opened (an inserted row, or an updated row's new values):
    # rows pointing at its referenced columns must still find a parent
    opened = [new.c[table.period.start] == p, _first_touch(table, new, earlier)]
    dangling = sum(
        _pointing_at_removed(conn, scope, fk, new, opened)
        for fk in table.incoming
        if _local(scope, fk)
    )
    return rows, bad, dangling, mine, found


def _pointing_at_removed(
    conn: Connection, scope: Scope, fk: ForeignKey, new: FromClause, inserted: list[Any]
) -> int:
    kids = scope.catalogue.tables[fk.child_table].plain().alias()
    on = sa.and_(
        *(kids.c[c] == new.c[p] for c, p in zip(fk.child_columns, fk.parent_columns, strict=True))
    )
    refs = [kids.c[c] for c in fk.child_columns]
    stmt = (
        sa.select(sa.func.count())
        .select_from(new.join(kids, on))
        .where(*inserted, ~_resolves(scope, fk, refs))
    )
    return int(conn.execute(stmt).scalar_one())
