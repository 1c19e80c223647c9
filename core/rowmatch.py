"""Comparing row versions byte for byte, for every column type.

A plain ``=`` or ``<=>`` is not an identity test: under a case-insensitive or
PAD SPACE collation ``'Mumbai' = 'MUMBAI '`` is true, so a case-only change
would pass for "unchanged" and a restore that lost it would pass for exact.
Textual and spatial values are therefore compared as their bytes
(``CAST(x AS BINARY)``; spatial values cannot even be cast to CHAR), and
everything else with ``<=>``, which is exact for numbers, temporal values,
BIT and binary strings. Generated columns are left out: they follow from the
others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause

from core.catalogue import TableInfo

TEXTUAL = frozenset(
    {
        "char",
        "varchar",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "enum",
        "set",
        "json",
    }
)
SPATIAL = frozenset(
    {
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    }
)


def as_bytes(value: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.cast(value, sa.LargeBinary)


def _exact(table: TableInfo, column: str) -> bool:
    """Whether ``<=>`` on this column already compares every byte."""
    return table.column(column).data_type not in TEXTUAL | SPATIAL


def compared_columns(table: TableInfo) -> list[str]:
    return table.writable_columns


def same_value(
    table: TableInfo, column: str, a: ColumnElement[Any], b: ColumnElement[Any]
) -> ColumnElement[bool]:
    if _exact(table, column):
        return a.is_not_distinct_from(b)
    return as_bytes(a).is_not_distinct_from(as_bytes(b))


def same_row(
    table: TableInfo, a: FromClause, b: FromClause, columns: Sequence[str] | None = None
) -> ColumnElement[bool]:
    """Null-safe, byte-exact equality of two versions of a row."""
    cols = compared_columns(table) if columns is None else columns
    if not cols:
        return sa.true()
    return sa.and_(*(same_value(table, c, a.c[c], b.c[c]) for c in cols))


def differing_columns(
    table: TableInfo, a: FromClause, b: FromClause
) -> list[tuple[str, ColumnElement[bool]]]:
    """(column, "differs") pairs, for saying which columns of a row are not as expected."""
    return [(c, sa.not_(same_value(table, c, a.c[c], b.c[c]))) for c in compared_columns(table)]


def _parts(columns: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """The values' bytes, each prefixed with its length (so no two different rows concatenate
    alike) and NULL marked; a cast to bytes works for every type (spatial values refuse a
    cast to CHAR)."""
    parts: list[ColumnElement[Any]] = []
    for col in columns:
        raw = as_bytes(col)
        parts.append(sa.func.ifnull(sa.func.concat(sa.func.length(raw), ":", raw), "\x00"))
    return sa.func.concat_ws("\x1f", *parts)


def history_crc(columns: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """A CRC32 of history rows, combined with BIT_XOR: they never change, so it names what a
    plan writes rather than guarding it, and it must be cheap over a million rows."""
    return sa.func.crc32(_parts(columns))


def row_hash(columns: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """64 bits of MD5 over the values' bytes, NULL-safe; combined with BIT_XOR, order-free:
    the fingerprint of the current rows a plan depends on."""
    digest = sa.func.md5(_parts(columns))
    return sa.func.conv(sa.func.left(digest, 16), 16, 10)
