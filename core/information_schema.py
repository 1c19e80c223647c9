"""The ``information_schema`` reads several modules share: a table's size on disk and its
SYSTEM_TIME partitions.

Declared once so that sizing a copy (``/vault protect``), weighing a history window
(``/vault status``) and checking partition health read the same columns the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import IS, TABLES

_TEXT = "TABLE_SCHEMA TABLE_NAME PARTITION_NAME PARTITION_METHOD PARTITION_DESCRIPTION"
_NUMBERS = "PARTITION_ORDINAL_POSITION DATA_LENGTH INDEX_LENGTH"  # so + adds, not concatenates
PARTITIONS = sa.table(
    "PARTITIONS",
    *(sa.column(c, sa.String()) for c in _TEXT.split()),
    *(sa.column(c, sa.BigInteger()) for c in _NUMBERS.split()),
    schema=IS,
)


@dataclass(frozen=True, slots=True)
class TableSize:
    rows: int  # InnoDB's estimate
    data_bytes: int
    index_bytes: int

    @property
    def total(self) -> int:
        return self.data_bytes + self.index_bytes


def table_size(conn: Connection, schema: str, table: str) -> TableSize:
    """What the table takes now, history included (InnoDB's estimates, no scan)."""
    t = TABLES.c
    rows, data, index = conn.execute(
        sa.select(t.TABLE_ROWS, t.DATA_LENGTH, t.INDEX_LENGTH).where(
            t.TABLE_SCHEMA == schema, t.TABLE_NAME == table
        )
    ).one()
    return TableSize(int(rows or 0), int(data or 0), int(index or 0))
