"""How healthy a table looked at an instant, by the measure the user picked.

``count``: rows present. ``fk``: rows whose foreign keys point at nothing
(in either direction). A column: its NULL share and how far its value
distribution has drifted from a reference snapshot (total variation
distance over the most common values). Each is one query ``AS OF`` the
instant, so the finder probes only a handful of instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import Catalogue, ForeignKey, TableInfo
from core.errors import InvalidInput
from core.history import count_at

TOP_VALUES = 20
NULL_RISE = 0.01  # a column is unhealthy when its NULL share rises this much...
DRIFT_LIMIT = 0.05  # ...or its distribution moves this far (total variation distance)


@dataclass(frozen=True, slots=True)
class Health:
    instant: datetime
    check: str
    rows: int | None = None
    dangling: int | None = None
    null_share: float | None = None
    top: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        if self.check == "count":
            return f"{self.rows:,} rows"
        if self.check == "fk":
            return f"{self.dangling:,} dangling references"
        return f"{(self.null_share or 0):.1%} NULL"


def validate_check(table: TableInfo, check: str) -> str:
    if check in ("count", "fk") or check in table.data_columns:
        return check
    columns = ", ".join(table.data_columns[:12])
    raise InvalidInput(
        f"`{check[:40]}` is not a check for `{table.name}`: use `count`, `fk` or a column "
        f"({columns})."
    )


def health_at(
    conn: Connection, catalogue: Catalogue, table: TableInfo, check: str, instant: datetime
) -> Health:
    if check == "count":
        return Health(instant, check, rows=count_at(conn, table, instant))
    if check == "fk":
        return Health(instant, check, dangling=_dangling_at(conn, catalogue, table, instant))
    return _column_at(conn, table, check, instant)


def drift(reference: Health, probe: Health) -> float:
    """Total variation distance between two top-value distributions."""
    keys = reference.top.keys() | probe.top.keys()
    rest_ref = 1.0 - sum(reference.top.values())
    rest_probe = 1.0 - sum(probe.top.values())
    spread = sum(abs(reference.top.get(k, 0.0) - probe.top.get(k, 0.0)) for k in keys)
    return 0.5 * (spread + abs(rest_ref - rest_probe))


def is_unhealthy(reference: Health, probe: Health, *, min_rows: int, min_share: float) -> bool:
    """Worse than the reference by more than noise."""
    if probe.check == "count":
        assert reference.rows is not None and probe.rows is not None
        lost = reference.rows - probe.rows
        return lost >= min_rows and lost >= min_share * max(reference.rows, 1)
    if probe.check == "fk":
        return (probe.dangling or 0) > (reference.dangling or 0)
    rise = (probe.null_share or 0.0) - (reference.null_share or 0.0)
    return rise >= NULL_RISE or drift(reference, probe) >= DRIFT_LIMIT


def _dangling_at(
    conn: Connection, catalogue: Catalogue, table: TableInfo, instant: datetime
) -> int:
    fks = [*table.outgoing, *table.incoming]
    return sum(_dangling_for(conn, catalogue, fk, instant) for fk in fks)


def _side(catalogue: Catalogue, name: str, instant: datetime) -> sa.FromClause | None:
    info = catalogue.tables.get(name)
    if info is None:
        return None
    return info.as_of(instant) if info.period is not None else info.plain()


def _dangling_for(conn: Connection, catalogue: Catalogue, fk: ForeignKey, instant: datetime) -> int:
    child = _side(catalogue, fk.child_table, instant)
    parent = _side(catalogue, fk.parent_table, instant)
    if child is None or parent is None or fk.child_schema != fk.parent_schema:
        return 0
    kid, dad = child.alias("kid"), parent.alias("dad")
    pairs = list(zip(fk.child_columns, fk.parent_columns, strict=True))
    missing = ~sa.select(sa.literal(1)).where(*(dad.c[p] == kid.c[c] for c, p in pairs)).exists()
    present = sa.and_(*(kid.c[c].is_not(None) for c, _ in pairs))
    stmt = sa.select(sa.func.count()).select_from(kid).where(present, missing)
    return int(conn.execute(stmt).scalar_one())


def _column_at(conn: Connection, table: TableInfo, column: str, instant: datetime) -> Health:
    v = table.as_of(instant)
    col = v.c[column]
    total, nulls = conn.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((col.is_(None), 1), else_=0)), 0)
        )
    ).one()
    total = int(total)
    rows = conn.execute(
        sa.select(col, sa.func.count().label("n"))
        .where(col.is_not(None))
        .group_by(col)
        .order_by(sa.desc("n"))
        .limit(TOP_VALUES)
    )
    top = {str(value): int(n) / total for value, n in rows} if total else {}
    share = int(nulls) / total if total else 0.0
    return Health(instant, column, rows=total, null_share=share, top=top)
