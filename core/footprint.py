"""A damaging statement's footprint: every row version it closed or opened, anywhere.

A statement stamps its instant (or, under transaction-precise versioning, its
transaction id) on every version it closes or opens, in every versioned table
it reached: cascades at any depth, SET NULL children, ON UPDATE CASCADE key
changes, and whatever its triggers wrote. So the footprint is read from
history at that one point, in every versioned table, rather than guessed from
the foreign-key graph. The graph is still needed for two things: naming the
table the statement targeted, and saying what cannot be restored (tables that
keep no history, or have no row identity).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import TABLES as _TABLES
from core.catalogue import Catalogue, Precision, TableInfo, Trigger
from core.history import ChangeEvent, TableChange, changes_at, period_value
from core.timeutil import from_db

FK_ACTIONS = frozenset({"CASCADE", "SET NULL", "SET DEFAULT"})
UPDATE_TIME_MARGIN = timedelta(seconds=2)
_WRITE_RE = re.compile(
    r"\b(?:INSERT(?:\s+IGNORE)?(?:\s+INTO)?|REPLACE(?:\s+INTO)?|UPDATE(?:\s+IGNORE)?|DELETE\s+FROM)"
    r"\s+(?:`?[\w$]+`?\s*\.\s*)?`?([\w$\u0080-\uffff]+)`?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Unrecoverable:
    """Part of the damage a restore cannot put back, and why."""

    table: str
    rows: int | None  # None: unknown (the table keeps no history to count from)
    reason: str

    def describe(self) -> str:
        count = "an unknown number of rows" if self.rows is None else f"{self.rows:,} rows"
        return f"{count} of `{self.table}` cannot be restored: {self.reason}"


def trigger_targets(trigger: Trigger) -> set[str]:
    """Tables a trigger's body writes, as far as its text shows (a CALL may hide more)."""
    return {m.group(1) for m in _WRITE_RE.finditer(trigger.statement)}


def _edges(catalogue: Catalogue, name: str) -> set[str]:
    """Tables a write to ``name`` can change in the same statement."""
    info = catalogue.tables.get(name)
    if info is None:
        return set()
    children = {
        fk.child_table
        for fk in info.incoming
        if fk.child_schema == catalogue.schema
        and (fk.on_delete in FK_ACTIONS or fk.on_update in FK_ACTIONS)
    }
    written = {t for trig in info.triggers for t in trigger_targets(trig)}
    return (children | written) - {name}


def downstream(catalogue: Catalogue, name: str) -> list[str]:
    """``name`` and every table its statements can reach, at any depth."""
    seen = [name]
    frontier = [name]
    while frontier:
        nxt = [t for n in frontier for t in sorted(_edges(catalogue, n)) if t not in seen]
        seen += list(dict.fromkeys(nxt))
        frontier = nxt
    return seen


def primary_table(catalogue: Catalogue, event: ChangeEvent) -> str:
    """The table the statement targeted: one no other touched table reaches by a cascade,
    SET NULL, ON UPDATE CASCADE or a trigger; the largest such when there are several."""
    touched = {c.table for c in event.changes}
    reached = {t for name in touched for t in _edges(catalogue, name)}
    roots = [c for c in event.changes if c.table not in reached] or list(event.changes)
    return max(roots, key=lambda c: (c.deleted + c.updated + c.inserted, c.table)).table


def _changed_since(conn: Connection, catalogue: Catalogue, since: datetime) -> set[str]:
    """Tables InnoDB may have changed at or after ``since``.

    ``UPDATE_TIME`` moves at commit (second precision), so a table whose
    ``UPDATE_TIME`` is well before the statement was not touched by it; a NULL
    (unknown, e.g. after a restart) keeps the table in. The margin covers the
    transaction registry's commit instant, which InnoDB may record just after
    it stamped ``UPDATE_TIME``, across a second boundary.
    """
    t = _TABLES.c
    floor = (since - UPDATE_TIME_MARGIN).replace(microsecond=0)
    rows = conn.execute(
        sa.select(t.TABLE_NAME, t.UPDATE_TIME).where(t.TABLE_SCHEMA == catalogue.schema)
    )
    return {name for name, at in rows if at is None or from_db(at) >= floor}


def _points(table: TableInfo, events: Sequence[ChangeEvent]) -> list[datetime | int]:
    assert table.period is not None
    if table.period.precision is Precision.TRANSACTION:
        return [e.transaction_id for e in events if e.transaction_id is not None]
    return [e.instant for e in events if e.transaction_id is None]


def _event_for(events: Sequence[ChangeEvent], table: TableInfo, point: object) -> ChangeEvent:
    assert table.period is not None
    if table.period.precision is Precision.TRANSACTION:
        return next(e for e in events if e.transaction_id == int(point))  # type: ignore[call-overload]
    instant = from_db(point)  # type: ignore[arg-type]
    return next(e for e in events if e.transaction_id is None and e.instant == instant)


def footprint(
    conn: Connection, catalogue: Catalogue, events: Sequence[ChangeEvent]
) -> tuple[list[ChangeEvent], list[Unrecoverable]]:
    """``events`` re-read in every versioned table, with what cannot be restored."""
    if not events:
        return [], []
    maybe = _changed_since(conn, catalogue, min(e.instant for e in events))
    found: dict[int, list[TableChange]] = defaultdict(list)
    lost: list[Unrecoverable] = []
    for table in catalogue.tables.values():
        if table.period is None or table.name not in maybe or table.access_error:
            continue
        points = _points(table, events)
        if not table.key:
            touched = _touched_versions(conn, table, points)
            if touched:
                lost.append(Unrecoverable(table.name, touched, "it has no row identity"))
            continue
        for point, change in changes_at(conn, table, points).items():
            if change.deleted or change.updated or change.inserted or change.unchanged:
                found[id(_event_for(events, table, point))].append(change)
    out = [ChangeEvent(e.instant, e.transaction_id, tuple(found[id(e)])) for e in events]
    lost += _without_history(catalogue, out)
    lost += _not_transactional(catalogue, out)
    return [e for e in out if e.changes], lost


def _touched_versions(conn: Connection, table: TableInfo, points: Sequence[datetime | int]) -> int:
    """Versions the statements closed or opened, in a table whose rows cannot be matched."""
    assert table.period is not None
    if not points:
        return 0
    v = table.all_versions()
    values = [period_value(table, p) for p in points]
    stmt = sa.select(sa.func.count()).where(
        sa.or_(v.c[table.period.end].in_(values), v.c[table.period.start].in_(values))
    )
    return int(conn.execute(stmt).scalar_one())


def _without_history(catalogue: Catalogue, events: Iterable[ChangeEvent]) -> list[Unrecoverable]:
    """Tables the damaged tables cascade into or write by trigger whose part of the damage
    cannot be read: no history, an unreadable table, or history stamped the other way
    (transaction ids against instants) so the statement's point does not find its rows."""
    touched = {c.table for e in events for c in e.changes if c.deleted or c.updated or c.inserted}
    out: dict[str, Unrecoverable] = {}
    for name in sorted(touched):
        for child in sorted(_edges(catalogue, name) - touched):
            info = catalogue.tables.get(child)
            why = _unreadable(catalogue, name, info) if info is not None else None
            if why and child not in out:
                out[child] = Unrecoverable(child, None, why)
    return list(out.values())


def _unreadable(catalogue: Catalogue, source: str, info: TableInfo) -> str | None:
    reached = f"`{source}` changes it by cascade or trigger"
    if info.period is None:
        return f"it keeps no history, and {reached}"
    if info.access_error:
        return f"FlightVault's account cannot read it, and {reached}"
    mine = catalogue.tables[source].period
    if mine is not None and mine.precision is not info.period.precision:
        return (
            f"its history is stamped by {info.period.precision.value} and `{source}`'s by "
            f"{mine.precision.value}, so this statement's rows in it cannot be matched"
        )
    return None


def _not_transactional(catalogue: Catalogue, events: Iterable[ChangeEvent]) -> list[Unrecoverable]:
    totals: dict[str, int] = defaultdict(int)
    for e in events:
        for c in e.changes:
            if not catalogue.tables[c.table].transactional:
                totals[c.table] += c.deleted + c.updated + c.inserted
    return [
        Unrecoverable(
            name,
            rows,
            f"its engine ({catalogue.tables[name].engine}) cannot roll back, so FlightVault "
            "will not write it",
        )
        for name, rows in totals.items()
    ]
