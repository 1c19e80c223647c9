"""Change events read from system-versioned history.

A statement (timestamp versioning) or a transaction (transaction-precise
versioning) stamps one ``row_end`` on every version it closes, cascaded child
rows included. So an *event* is one distinct ``row_end`` value, and for each
closed version we ask: does a version of the same key start at that instant?
If not, the row was deleted; if so, it was rewritten, and we compare values
to tell a real update from a no-op ``UPDATE t SET v = v``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import BIGINT, DATETIME
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, FromClause

from core.catalogue import Catalogue, Precision, TableInfo
from core.rowmatch import same_row
from core.timeutil import from_db, to_db

_REGISTRY = sa.table(
    "transaction_registry",
    *map(sa.column, ["transaction_id", "commit_id", "commit_timestamp"]),
    schema="mysql",
)


@dataclass(frozen=True, slots=True)
class TableChange:
    """What one event did to one table."""

    table: str
    deleted: int = 0
    updated: int = 0
    inserted: int = 0
    unchanged: int = 0  # rewritten with identical values (no-op updates)


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One statement (or transaction) that changed watched tables."""

    instant: datetime
    transaction_id: int | None
    changes: tuple[TableChange, ...]

    def for_table(self, name: str) -> TableChange | None:
        return next((c for c in self.changes if c.table == name), None)

    @property
    def tables(self) -> list[str]:
        return [c.table for c in self.changes]

    @property
    def point(self) -> str:
        """A stable key for this event: its transaction id, else its instant."""
        return point_key(self.instant, self.transaction_id)


def event_to_json(event: ChangeEvent) -> dict[str, Any]:
    return {
        "instant": event.instant.isoformat(),
        "transaction_id": event.transaction_id,
        "changes": [
            [c.table, c.deleted, c.updated, c.inserted, c.unchanged] for c in event.changes
        ],
    }


def event_from_json(data: dict[str, Any]) -> ChangeEvent:
    return ChangeEvent(
        datetime.fromisoformat(data["instant"]),
        data["transaction_id"],
        tuple(TableChange(*c) for c in data["changes"]),
    )


def point_key(instant: datetime, transaction_id: int | None) -> str:
    if transaction_id is not None:
        return f"trx:{transaction_id}"
    return instant.isoformat(timespec="microseconds")


class RowKind(StrEnum):
    DELETED = "deleted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    INSERTED = "inserted"


@dataclass(frozen=True, slots=True)
class RowChange:
    """One row an event touched: its key, before-image and after-image."""

    kind: RowKind
    key: tuple[Any, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed_columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableDiff:
    """How a table differs between two instants."""

    table: str
    start: datetime
    end: datetime
    deleted: int
    inserted: int
    changed: int
    samples: tuple[RowChange, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- helpers


def server_now(conn: Connection) -> datetime:
    """The server's clock, microsecond precision (``NOW()`` has only seconds)."""
    return from_db(conn.execute(sa.text("SELECT NOW(6)")).scalar_one())


def _key_match(a: FromClause, b: FromClause, key: Sequence[str]) -> ColumnElement[bool]:
    return sa.and_(*(a.c[k] == b.c[k] for k in key))


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def period_value(table: TableInfo, value: datetime | int) -> sa.BindParameter[Any]:
    assert table.period is not None
    if table.period.precision is Precision.TRANSACTION:
        assert isinstance(value, int)
        return sa.bindparam(None, value, type_=BIGINT(unsigned=True))
    assert isinstance(value, datetime)
    return sa.bindparam(None, to_db(value), type_=DATETIME(fsp=6))


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class _Counts:
    closed: int = 0
    rewritten: int = 0
    updated: int = 0
    started: int = 0


def _closing_points(conn: Connection, table: TableInfo, lo: Any, hi: Any) -> list[Any]:
    """Distinct ``row_end`` values in ``(lo, hi]``: a loose scan of the index when there is one."""
    assert table.period is not None
    v = table.all_versions()
    end = v.c[table.period.end]
    stmt = (
        sa.select(end)
        .where(end > period_value(table, lo), end <= period_value(table, hi))
        .group_by(end)
    )
    if table.period.precision is Precision.TRANSACTION:
        return [int(row[0]) for row in conn.execute(stmt)]
    return [from_db(row[0]) for row in conn.execute(stmt)]


def _closing_counts(
    conn: Connection, table: TableInfo, lo: Any, hi: Any, points: Sequence[Any] | None = None
) -> dict[Any, tuple[int, int, int]]:
    """instant -> (versions closed, rewritten under the same key, really updated)."""
    assert table.period is not None
    start, end = table.period.start, table.period.end
    h = table.all_versions().alias("h")
    n = table.all_versions().alias("n")
    joined = h.outerjoin(n, sa.and_(_key_match(h, n, table.key), n.c[start] == h.c[end]))
    rewritten = n.c[table.key[0]].is_not(None)
    changed = sa.and_(rewritten, sa.not_(same_row(table, h, n)))
    stmt = (
        sa.select(h.c[end], sa.func.count(), _count_if(rewritten), _count_if(changed))
        .select_from(joined)
        .where(h.c[end] > period_value(table, lo), h.c[end] <= period_value(table, hi))
        .group_by(h.c[end])
    )
    if points is not None:
        stmt = stmt.where(h.c[end].in_([period_value(table, p) for p in points]))
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in conn.execute(stmt)}


def _starting_counts(
    conn: Connection, table: TableInfo, lo: Any, hi: Any, points: Sequence[Any] | None = None
) -> dict[Any, int]:
    """instant -> versions started (inserts plus the new side of updates)."""
    assert table.period is not None
    start = table.period.start
    v = table.all_versions()
    stmt = (
        sa.select(v.c[start], sa.func.count())
        .where(v.c[start] > period_value(table, lo), v.c[start] <= period_value(table, hi))
        .group_by(v.c[start])
    )
    if points is not None:
        stmt = stmt.where(v.c[start].in_([period_value(table, p) for p in points]))
    return {row[0]: int(row[1]) for row in conn.execute(stmt)}


def _table_counts(
    conn: Connection,
    table: TableInfo,
    lo: Any,
    hi: Any,
    inserts: bool,
    skip: Callable[[Any], bool] | None = None,
) -> dict[Any, _Counts]:
    """Counts per point in ``(lo, hi]``. With ``skip``, the costly join runs only for the
    closing points not skipped (found by a scan of the ``row_end`` index), and statements
    that only inserted are still listed when ``inserts`` is set."""
    assert table.period is not None
    indexed = table.period.start_indexed
    points = None
    if skip is not None or indexed:
        points = [p for p in _closing_points(conn, table, lo, hi) if skip is None or not skip(p)]
    starting: dict[Any, int] = {}
    if inserts:
        starting = _starting_counts(conn, table, lo, hi)
        if skip is not None:
            starting = {p: n for p, n in starting.items() if not skip(p)}
    if points == []:
        closing = {}
    elif indexed and points is not None:
        closing = _closing_by_index(conn, table, lo, hi, points, starting if inserts else None)
    else:
        closing = _closing_counts(conn, table, lo, hi, points)
    return _merge_counts(closing, starting)


def _closing_by_index(
    conn: Connection,
    table: TableInfo,
    lo: Any,
    hi: Any,
    points: Sequence[Any],
    starting: dict[Any, int] | None,
) -> dict[Any, tuple[int, int, int]]:
    """With ``row_start`` indexed too, the versions closed and opened at each point are
    index range counts, and only the points that did both (updates, or a REPLACE) need
    the join that tells updates from deletes and no-ops: a million-row DELETE is two
    counts, not a million lookups of a successor that does not exist."""
    opened = starting if starting is not None else _starting_counts(conn, table, lo, hi, points)
    closing = {p: (n, 0, 0) for p, n in _closed_counts(conn, table, points).items()}
    both = [_point(table, p) for p in closing if opened.get(p)]
    if both:
        closing.update(_closing_counts(conn, table, lo, hi, both))
    return closing


def _merge_counts(
    closing: dict[Any, tuple[int, int, int]], starting: dict[Any, int]
) -> dict[Any, _Counts]:
    out: dict[Any, _Counts] = {}
    for point in closing.keys() | starting.keys():
        closed, rewritten, updated = closing.get(point, (0, 0, 0))
        out[point] = _Counts(closed, rewritten, updated, starting.get(point, rewritten))
    return out


def _to_change(table: str, c: _Counts) -> TableChange:
    return TableChange(
        table=table,
        deleted=c.closed - c.rewritten,
        updated=c.updated,
        inserted=max(c.started - c.rewritten, 0),
        unchanged=c.rewritten - c.updated,
    )


def _registry_window(
    conn: Connection, since: datetime, until: datetime
) -> dict[int, tuple[int, datetime]]:
    """transaction id -> (commit id, commit instant) for commits in (since, until]."""
    r = _REGISTRY
    rows = conn.execute(
        sa.select(r.c.transaction_id, r.c.commit_id, r.c.commit_timestamp).where(
            r.c.commit_timestamp > sa.bindparam(None, to_db(since), type_=DATETIME(fsp=6)),
            r.c.commit_timestamp <= sa.bindparam(None, to_db(until), type_=DATETIME(fsp=6)),
        )
    )
    return {int(t): (int(c), from_db(ts)) for t, c, ts in rows}


def _seen_instant(seen: Callable[[str, str], bool], table: str, point: Any) -> bool:
    return seen(table, point_key(from_db(point), None))


def _seen_transaction(
    seen: Callable[[str, str], bool], table: str, registry: dict[int, Any], point: Any
) -> bool:
    return int(point) not in registry or seen(table, f"trx:{int(point)}")


def list_events(
    conn: Connection,
    catalogue: Catalogue,
    *,
    since: datetime,
    until: datetime | None = None,
    tables: Iterable[str] | None = None,
    inserts: bool = True,
    seen: Callable[[str, str], bool] | None = None,
) -> list[ChangeEvent]:
    """Events in the half-open window ``(since, until]``, oldest first.

    ``inserts=False`` skips counting inserted rows, which saves a scan of
    ``row_start`` on tables where that column has no index; the watcher only
    needs deletions and updates, and passes ``seen(table, point_key)`` so
    that re-reading an overlap window costs one index scan for events it has
    already judged.
    """
    until = until or server_now(conn)
    names = list(tables) if tables is not None else [t.name for t in catalogue.watched()]
    merged: dict[tuple[datetime, int | None], list[TableChange]] = defaultdict(list)
    registry: dict[int, tuple[int, datetime]] | None = None
    for name in names:
        table = catalogue.watchable(name)
        assert table.period is not None
        if table.period.precision is Precision.TIMESTAMP:
            skip = None
            if seen is not None:
                skip = partial(_seen_instant, seen, name)
            for point, counts in _table_counts(conn, table, since, until, inserts, skip).items():
                merged[(from_db(point), None)].append(_to_change(name, counts))
            continue
        if registry is None:
            registry = _registry_window(conn, since, until)
        if not registry:
            continue
        lo, hi = min(registry) - 1, max(registry)
        skip_trx = None
        if seen is not None:
            skip_trx = partial(_seen_transaction, seen, name, registry)
        for point, counts in _table_counts(conn, table, lo, hi, inserts, skip_trx).items():
            if int(point) in registry:
                merged[(registry[int(point)][1], int(point))].append(_to_change(name, counts))
    events = [
        ChangeEvent(instant, trx, tuple(changes)) for (instant, trx), changes in merged.items()
    ]
    return sorted(events, key=lambda e: (e.instant, e.transaction_id or 0))


def changes_at(
    conn: Connection, table: TableInfo, points: Sequence[datetime | int]
) -> dict[Any, TableChange]:
    """What the statements at exactly ``points`` did to ``table``, inserted rows included.

    ``points`` are instants for timestamp versioning and transaction ids for
    transaction-precise versioning; keys of the result are the server's values.
    """
    assert table.period is not None
    if not points:
        return {}
    lo, hi = _before(min(points)), max(points)
    starting = _starting_counts(conn, table, lo, hi, points)
    closing = {p: (n, 0, 0) for p, n in _closed_counts(conn, table, points).items()}
    # Telling updates from deletes needs a join of each closed version with its successor;
    # where nothing was opened at a point (a plain DELETE) there is no successor to find.
    both = [_point(table, p) for p in closing if starting.get(p)]
    if both:
        closing.update(_closing_counts(conn, table, lo, hi, both))
    counts = _merge_counts(closing, starting)
    return {p: _to_change(table.name, c) for p, c in counts.items()}


def _closed_counts(
    conn: Connection, table: TableInfo, points: Sequence[datetime | int]
) -> dict[Any, int]:
    """point -> versions closed there: an index range count when ``row_end`` is indexed."""
    assert table.period is not None
    end = table.all_versions().c[table.period.end]
    stmt = (
        sa.select(end, sa.func.count())
        .where(end.in_([period_value(table, p) for p in points]))
        .group_by(end)
    )
    return {row[0]: int(row[1]) for row in conn.execute(stmt)}


def _point(table: TableInfo, raw: Any) -> datetime | int:
    """A period value as the server returned it, back as a point to bind."""
    assert table.period is not None
    return int(raw) if table.period.precision is Precision.TRANSACTION else from_db(raw)


def _before(point: datetime | int) -> datetime | int:
    """A bound just below ``point``, for the half-open windows the count queries take."""
    return point - 1 if isinstance(point, int) else point - timedelta(microseconds=1)


# --------------------------------------------------------------------------- rows


def _row_change(table: TableInfo, row: Sequence[Any], width: int) -> RowChange:
    values = tuple(row)
    cols = table.data_columns
    before = dict(zip(cols, values[:width], strict=True))
    key = tuple(before[k] for k in table.key)
    if values[width] is None:
        return RowChange(RowKind.DELETED, key, before, None)
    after = dict(zip(cols, values[width + 1 :], strict=True))
    changed = tuple(c for c in cols if before[c] != after[c])
    kind = RowKind.UPDATED if changed else RowKind.UNCHANGED
    return RowChange(kind, key, before, after, changed)


def changed_rows(
    conn: Connection,
    table: TableInfo,
    event: ChangeEvent,
    *,
    batch: int = 1000,
    limit: int | None = None,
) -> Iterator[RowChange]:
    """Rows ``event`` deleted or rewrote in ``table``, with before- and after-images.

    Streamed from the server in batches; ordered by primary key.
    """
    assert table.period is not None
    start, end = table.period.start, table.period.end
    point = event.transaction_id if event.transaction_id is not None else event.instant
    h = table.all_versions().alias("h")
    n = table.all_versions().alias("n")
    marker = n.c[table.key[0]]
    stmt = (
        sa.select(
            *(h.c[c] for c in table.data_columns),
            marker.label("_after_key"),
            *(n.c[c] for c in table.data_columns),
        )
        .select_from(h.outerjoin(n, sa.and_(_key_match(h, n, table.key), n.c[start] == h.c[end])))
        .where(h.c[end] == period_value(table, point))
        .order_by(*(h.c[k] for k in table.key))
        .limit(limit)
    )
    width = len(table.data_columns)
    result = conn.execution_options(yield_per=batch).execute(stmt)
    for row in result:
        yield _row_change(table, tuple(row), width)


# --------------------------------------------------------------------------- snapshots


def snapshot(
    conn: Connection, table: TableInfo, instant: datetime, *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """The table's rows as they were at ``instant``, ordered by key, streamed."""
    v = table.as_of(instant)
    stmt = sa.select(*(v.c[c] for c in table.data_columns)).order_by(*(v.c[k] for k in table.key))
    for row in conn.execution_options(yield_per=batch).execute(stmt):
        yield dict(row._mapping)


def count_at(conn: Connection, table: TableInfo, instant: datetime) -> int:
    """Row count at ``instant``."""
    v = table.as_of(instant)
    return int(conn.execute(sa.select(sa.func.count()).select_from(v)).scalar_one())


def diff(
    conn: Connection, table: TableInfo, start: datetime, end: datetime, *, sample: int = 10
) -> TableDiff:
    """Rows deleted, inserted and changed between two instants, with a sample of each.

    Under timestamp versioning the candidates are narrowed with the period
    columns (versions closed by ``end``, started after ``start``), which lets
    an index on ``row_end`` do the work instead of joining two full snapshots.
    """
    if end < start:
        start, end = end, start
    assert table.period is not None
    x, y = table.as_of(start).alias("x"), table.as_of(end).alias("y")
    key = table.key
    stamped = table.period.precision is Precision.TIMESTAMP
    gone = sa.or_(y.c[key[0]].is_(None), sa.not_(same_row(table, x, y)))
    old_side = sa.select().select_from(x.outerjoin(y, _key_match(x, y, key))).where(gone)
    new_side = (
        sa.select().select_from(y.outerjoin(x, _key_match(x, y, key))).where(x.c[key[0]].is_(None))
    )
    if stamped:
        old_side = old_side.where(x.c[table.period.end] <= period_value(table, end))
        new_side = new_side.where(y.c[table.period.start] > period_value(table, start))
    counts = conn.execute(
        old_side.add_columns(_count_if(y.c[key[0]].is_(None)), _count_if(y.c[key[0]].is_not(None)))
    ).one()
    inserted = int(conn.execute(new_side.add_columns(sa.func.count())).scalar_one())
    samples = _diff_samples(conn, table, x, y, old_side, new_side, sample)
    return TableDiff(
        table.name, start, end, int(counts[0]), inserted, int(counts[1]), tuple(samples)
    )


def _diff_samples(
    conn: Connection,
    table: TableInfo,
    x: FromClause,
    y: FromClause,
    old_side: sa.Select[Any],
    new_side: sa.Select[Any],
    limit: int,
) -> list[RowChange]:
    if limit <= 0:
        return []
    cols, key = table.data_columns, table.key
    old_rows = conn.execute(
        old_side.add_columns(
            *(x.c[c] for c in cols), y.c[key[0]].label("_after_key"), *(y.c[c] for c in cols)
        )
        .order_by(*(x.c[k] for k in key))
        .limit(limit)
    )
    out = [_row_change(table, tuple(row), len(cols)) for row in old_rows]
    new_rows = conn.execute(
        new_side.add_columns(*(y.c[c] for c in cols)).order_by(*(y.c[k] for k in key)).limit(limit)
    )
    for row in new_rows:
        after = dict(zip(cols, tuple(row), strict=True))
        out.append(RowChange(RowKind.INSERTED, tuple(after[k] for k in key), None, after))
    return out


# --------------------------------------------------------------------------- window


@dataclass(frozen=True, slots=True)
class HistoryStats:
    """How far back a table's history reaches and how much of it there is."""

    versions_since: datetime | None  # earliest row_start still stored
    oldest_change: datetime | None  # earliest row_end of a closed version
    history_rows: int  # closed versions kept


def history_stats(conn: Connection, table: TableInfo) -> HistoryStats:
    """One pass over the versions; cheap on small tables, a scan on large ones."""
    assert table.period is not None
    v = table.all_versions()
    start, end = v.c[table.period.start], v.c[table.period.end]
    if table.period.precision is Precision.TIMESTAMP:
        closed = end <= sa.func.now(6)
        first_start, first_end, rows = conn.execute(
            sa.select(sa.func.min(start), sa.func.min(sa.case((closed, end))), _count_if(closed))
        ).one()
        return HistoryStats(
            from_db(first_start) if first_start else None,
            from_db(first_end) if first_end else None,
            int(rows),
        )
    r = _REGISTRY
    closed = end <= sa.select(sa.func.max(r.c.transaction_id)).scalar_subquery()
    first_start, first_end, rows = conn.execute(
        sa.select(sa.func.min(start), sa.func.min(sa.case((closed, end))), _count_if(closed))
    ).one()

    def commit_time(trx: int | None) -> datetime | None:
        if not trx:
            return None
        ts = conn.execute(
            sa.select(r.c.commit_timestamp).where(r.c.transaction_id == trx)
        ).scalar_one_or_none()
        return from_db(ts) if ts else None

    return HistoryStats(commit_time(first_start), commit_time(first_end), int(rows))
