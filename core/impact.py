"""What a deleting statement did beyond its own table.

Two kinds of collateral damage: child rows removed by ON DELETE CASCADE in
the same statement (same instant, so they are in the event already), and
child rows left pointing at keys that no longer exist (deletes run with
``foreign_key_checks = 0`` leave these dangling; the restore repairs them).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import Catalogue, ForeignKey, TableInfo
from core.history import ChangeEvent, period_value


@dataclass(frozen=True, slots=True)
class Impact:
    """One child table's share of the damage."""

    table: str
    via: str  # foreign key name
    cascaded: int  # rows the same statement removed by ON DELETE CASCADE
    dangling: int  # rows that now reference deleted keys
    versioned: bool  # False: cascaded rows kept no history and cannot be restored


def primary_table(catalogue: Catalogue, event: ChangeEvent) -> str:
    """The table the statement targeted: the one no other touched table cascades into."""
    touched = {c.table for c in event.changes}

    def is_cascade_child(name: str) -> bool:
        info = catalogue.tables.get(name)
        return bool(info) and any(
            fk.parent_table in touched and fk.parent_table != name and fk.on_delete == "CASCADE"
            for fk in info.outgoing  # type: ignore[union-attr]
        )

    roots = [c for c in event.changes if not is_cascade_child(c.table)] or list(event.changes)
    return max(roots, key=lambda c: (c.deleted + c.updated, c.table)).table


def event_impact(conn: Connection, catalogue: Catalogue, event: ChangeEvent) -> list[Impact]:
    """Cascades and dangling references caused by ``event``, one entry per child table.

    A child with two foreign keys to the same parent (routes: origin and
    destination) lost its rows once, so cascaded rows are counted once per table.
    """
    out: list[Impact] = []
    for change in event.changes:
        parent = catalogue.tables.get(change.table)
        if parent is None or not change.deleted:
            continue
        by_child: dict[str, list[ForeignKey]] = {}
        for fk in parent.incoming:
            if fk.child_schema == catalogue.schema and fk.child_table in catalogue.tables:
                by_child.setdefault(fk.child_table, []).append(fk)
        for name, fks in by_child.items():
            child = catalogue.tables[name]
            touched = event.for_table(name)
            cascading = any(fk.on_delete == "CASCADE" for fk in fks)
            cascaded = touched.deleted if touched and cascading and name != parent.name else 0
            dangling = sum(count_dangling(conn, parent, child, fk, event) for fk in fks)
            versioned = child.period is not None
            if cascaded or dangling or (not versioned and cascading):
                via = ", ".join(fk.name for fk in fks)
                out.append(Impact(name, via, cascaded, dangling, versioned))
    return out


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
