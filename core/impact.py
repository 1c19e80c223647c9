"""What a damaging statement did beyond the table it targeted.

Two kinds of collateral damage: rows the same statement removed or changed in
other tables (cascades at any depth, SET NULL, ON UPDATE CASCADE, triggers:
same instant, so they are in the event already), and rows left pointing at
keys that no longer exist (deletes run with ``foreign_key_checks = 0`` leave
these dangling; the restore repairs them).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import Catalogue, ForeignKey, TableInfo
from core.footprint import FK_ACTIONS, primary_table, trigger_targets
from core.history import ChangeEvent, period_value


@dataclass(frozen=True, slots=True)
class Impact:
    """One other table's share of the damage."""

    table: str
    via: str  # how the statement reached it: foreign keys and their rules, or a trigger
    cascaded: int  # rows the same statement removed (ON DELETE CASCADE, or a trigger)
    dangling: int  # rows that now reference deleted keys
    versioned: bool  # False: cascaded rows kept no history and cannot be restored
    changed: int = 0  # rows the same statement changed (SET NULL, ON UPDATE CASCADE, trigger)


def _via(catalogue: Catalogue, name: str, touched: set[str]) -> str:
    """How a statement on the touched tables reaches ``name``."""
    info = catalogue.tables.get(name)
    if info is None:
        return "the same statement"
    fks = [
        f"{fk.name} ON DELETE {fk.on_delete}"
        + (f" ON UPDATE {fk.on_update}" if fk.on_update != "RESTRICT" else "")
        for fk in info.outgoing
        if fk.parent_table in touched and fk.parent_table != name
    ]
    triggers = [
        f"trigger {t.name} on {t.table}"
        for other in sorted(touched - {name})
        for t in catalogue.tables[other].triggers
        if name in trigger_targets(t)
    ]
    return ", ".join(fks + triggers) or "the same statement"


def event_impact(conn: Connection, catalogue: Catalogue, event: ChangeEvent) -> list[Impact]:
    """What ``event`` did beyond the table it targeted, one entry per other table.

    Rows the same statement removed or changed anywhere (cascades at any depth,
    SET NULL, ON UPDATE CASCADE, triggers) are in the event already; rows
    elsewhere left pointing at deleted keys are counted from the current data.
    A child with two foreign keys to the same parent (routes: origin and
    destination) lost its rows once, so its rows are counted once.
    """
    primary = primary_table(catalogue, event)
    touched = {c.table for c in event.changes}
    out: dict[str, Impact] = {}
    for change in event.changes:
        if change.table != primary and (change.deleted or change.updated):
            out[change.table] = Impact(
                change.table,
                _via(catalogue, change.table, touched),
                change.deleted,
                0,
                True,
                change.updated,
            )
    for change in event.changes:
        parent = catalogue.tables.get(change.table)
        if parent is None or not change.deleted:
            continue
        for name, fks in _children(catalogue, parent).items():
            dangling = sum(
                count_dangling(conn, parent, catalogue.tables[name], fk, event) for fk in fks
            )
            lost = catalogue.tables[name].period is None and any(
                fk.on_delete in FK_ACTIONS for fk in fks
            )
            if dangling or lost:
                via = ", ".join(f"{fk.name} ON DELETE {fk.on_delete}" for fk in fks)
                old = out.get(name)
                out[name] = Impact(
                    name,
                    old.via if old else via,
                    old.cascaded if old else 0,
                    (old.dangling if old else 0) + dangling,
                    not lost,
                    old.changed if old else 0,
                )
    return list(out.values())


def _children(catalogue: Catalogue, parent: TableInfo) -> dict[str, list[ForeignKey]]:
    """Tables referencing ``parent``, itself included (a manager column: MariaDB 10.11 stops
    a self-referencing cascade on a versioned table after one level, leaving the rest
    dangling)."""
    by_child: dict[str, list[ForeignKey]] = {}
    for fk in parent.incoming:
        if fk.child_schema == catalogue.schema and fk.child_table in catalogue.tables:
            by_child.setdefault(fk.child_table, []).append(fk)
    return by_child


def count_dangling(
    conn: Connection, parent: TableInfo, child: TableInfo, fk: ForeignKey, event: ChangeEvent
) -> int:
    """Child rows (as they are now) whose parent key was deleted by ``event`` and is still gone."""
    assert parent.period is not None
    point = event.transaction_id if event.transaction_id is not None else event.instant
    gone = parent.all_versions().alias("gone")
    now_parent = parent.plain().alias("now_parent")
    kids = child.plain().alias("kids")
    match_gone = sa.and_(
        *(kids.c[c] == gone.c[p] for c, p in zip(fk.child_columns, fk.parent_columns, strict=True))
    )
    still_there = (
        sa.select(sa.literal(1))
        .select_from(now_parent)
        .where(
            *(
                now_parent.c[p] == kids.c[c]
                for c, p in zip(fk.child_columns, fk.parent_columns, strict=True)
            )
        )
    )
    stmt = (
        sa.select(sa.func.count())
        .select_from(kids.join(gone, match_gone))
        .where(gone.c[parent.period.end] == period_value(parent, point))
        .where(~still_there.exists())
    )
    return int(conn.execute(stmt).scalar_one())
