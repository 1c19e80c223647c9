"""``FOR SYSTEM_TIME`` as an SQLAlchemy Core construct.

MariaDB wants the clause between the table name and its alias
(``FROM t FOR SYSTEM_TIME ALL AS h``), which SQLAlchemy's ``with_hint`` cannot
place. ``VersionedTable`` is a ``TableClause`` that renders the clause itself,
with the instant as a bound parameter, so every temporal query stays ordinary
Core: quoted identifiers from the catalogue, bound values, no string splicing.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import BIGINT, DATETIME
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import quoted_name
from sqlalchemy.sql.expression import TableClause

from core.timeutil import to_db


class Mode(Enum):
    ALL = "ALL"
    AS_OF_TIMESTAMP = "AS OF TIMESTAMP"
    AS_OF_TRANSACTION = "AS OF TRANSACTION"


class VersionedTable(TableClause):
    """A table read through ``FOR SYSTEM_TIME``; alias it for self-joins."""

    inherit_cache = False  # the bound instant is not part of TableClause's cache key

    def __init__(self, name: str, columns: list[str], mode: Mode, point: Any = None) -> None:
        super().__init__(
            quoted_name(name, quote=True),
            *(sa.column(quoted_name(c, quote=True)) for c in columns),
        )
        self.mode = mode
        self.point = point


@compiles(VersionedTable)
def _compile_versioned(element: VersionedTable, compiler: SQLCompiler, **kw: Any) -> str:
    rendered = compiler.visit_table(element, **kw)
    if not kw.get("asfrom"):
        return rendered
    clause = f"{rendered} FOR SYSTEM_TIME {element.mode.value}"
    if element.mode is Mode.ALL:
        return clause
    return f"{clause} {compiler.process(element.point, **kw)}"


def all_versions(name: str, columns: list[str]) -> VersionedTable:
    """Every version, current and historical."""
    return VersionedTable(name, columns, Mode.ALL)


def as_of_timestamp(name: str, columns: list[str], instant: datetime) -> VersionedTable:
    """The table as it was at ``instant`` (an aware datetime)."""
    point = sa.bindparam(None, to_db(instant), type_=DATETIME(fsp=6))
    return VersionedTable(name, columns, Mode.AS_OF_TIMESTAMP, point)


def as_of_transaction(name: str, columns: list[str], trx_id: int) -> VersionedTable:
    """The table as of transaction ``trx_id``, which *includes* that transaction's changes."""
    point = sa.bindparam(None, trx_id, type_=BIGINT(unsigned=True))
    return VersionedTable(name, columns, Mode.AS_OF_TRANSACTION, point)
