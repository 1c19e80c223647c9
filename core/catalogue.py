"""What the watched database holds, read from its own catalogue.

Every table and column name FlightVault ever puts into SQL comes from here,
never from user text. Implicit period columns (``ADD SYSTEM VERSIONING``) are
absent from ``information_schema.COLUMNS``, so the period is read from
``SHOW CREATE TABLE``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import UnknownTable, UnwatchableTable
from core.temporal_sql import (
    VersionedTable,
    all_versions,
    as_of_timestamp,
    as_of_transaction,
)

IS = "information_schema"


def _is_table(name: str, columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, sa.String()) for c in columns.split()), schema=IS)


TABLES = _is_table(
    "TABLES",
    "TABLE_SCHEMA TABLE_NAME TABLE_TYPE ENGINE TABLE_ROWS UPDATE_TIME CREATE_TIME"
    " DATA_LENGTH INDEX_LENGTH",
)  # information_schema.TABLES, for the modules that read it
_COLUMNS = _is_table(
    "COLUMNS",
    "TABLE_SCHEMA TABLE_NAME COLUMN_NAME ORDINAL_POSITION DATA_TYPE COLUMN_TYPE IS_NULLABLE"
    " EXTRA IS_GENERATED",
)
_TRIGGERS = _is_table(
    "TRIGGERS",
    "TRIGGER_SCHEMA TRIGGER_NAME EVENT_MANIPULATION EVENT_OBJECT_TABLE ACTION_TIMING"
    " ACTION_STATEMENT ACTION_ORDER",
)
_STATISTICS = _is_table(
    "STATISTICS", "TABLE_SCHEMA TABLE_NAME INDEX_NAME SEQ_IN_INDEX COLUMN_NAME NON_UNIQUE"
)
_REFERENTIAL = _is_table(
    "REFERENTIAL_CONSTRAINTS",
    "CONSTRAINT_SCHEMA CONSTRAINT_NAME TABLE_NAME REFERENCED_TABLE_NAME DELETE_RULE UPDATE_RULE",
)
_KEY_USAGE = _is_table(
    "KEY_COLUMN_USAGE",
    "CONSTRAINT_SCHEMA CONSTRAINT_NAME TABLE_NAME COLUMN_NAME ORDINAL_POSITION"
    " REFERENCED_TABLE_SCHEMA REFERENCED_TABLE_NAME REFERENCED_COLUMN_NAME",
)

_IDENT = r"`((?:[^`]|``)+)`"
_PERIOD_RE = re.compile(rf"PERIOD FOR SYSTEM_TIME \({_IDENT}, {_IDENT}\)")
IMPLICIT_START, IMPLICIT_END = "ROW_START", "ROW_END"


class Precision(StrEnum):
    """How row versions are stamped."""

    TIMESTAMP = "timestamp"  # one instant per statement
    TRANSACTION = "transaction"  # transaction ids, mapped by mysql.transaction_registry


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    data_type: str
    column_type: str
    nullable: bool
    generated: bool = False  # VIRTUAL or STORED: computed by the server, never written
    invisible: bool = False  # left out of SELECT *, so always named explicitly


@dataclass(frozen=True, slots=True)
class Trigger:
    """A trigger as the catalogue shows it (the account needs TRIGGER to see it)."""

    name: str
    table: str
    timing: str  # BEFORE | AFTER
    event: str  # INSERT | UPDATE | DELETE
    statement: str


@dataclass(frozen=True, slots=True)
class Period:
    start: str
    end: str
    implicit: bool
    precision: Precision
    end_indexed: bool
    start_indexed: bool


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    child_schema: str
    child_table: str
    child_columns: tuple[str, ...]
    parent_schema: str
    parent_table: str
    parent_columns: tuple[str, ...]
    on_delete: str
    on_update: str

    def describe(self) -> str:
        cols = ", ".join(self.child_columns)
        pcols = ", ".join(self.parent_columns)
        return (
            f"{self.child_table}({cols}) -> {self.parent_table}({pcols}) ON DELETE {self.on_delete}"
        )


@dataclass(frozen=True, slots=True)
class TableInfo:
    schema: str
    name: str
    engine: str
    estimated_rows: int
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the row identity: the primary key, else a UNIQUE key over NOT NULL
    unique_keys: tuple[tuple[str, ...], ...]
    period: Period | None
    outgoing: tuple[ForeignKey, ...] = ()
    incoming: tuple[ForeignKey, ...] = ()
    problem: str | None = None
    access_error: str | None = None  # set when the account cannot read the table's definition
    key_name: str = "PRIMARY"  # the index that gives the row identity
    triggers: tuple[Trigger, ...] = ()

    @property
    def watchable(self) -> bool:
        return self.problem is None

    @property
    def data_columns(self) -> list[str]:
        """Columns users see: everything but the period columns."""
        return [c.name for c in self.columns]

    @property
    def version_columns(self) -> list[str]:
        """Data columns plus the period columns, for history queries."""
        assert self.period is not None
        return [*self.data_columns, self.period.start, self.period.end]

    @property
    def non_key_columns(self) -> list[str]:
        return [c for c in self.data_columns if c not in self.key]

    @property
    def writable_columns(self) -> list[str]:
        """Columns a restore writes: generated columns are the server's to compute."""
        return [c.name for c in self.columns if not c.generated]

    @property
    def transactional(self) -> bool:
        """Only InnoDB rolls back: a restore or rehearsal must never half-write a table."""
        return self.engine.lower() == "innodb"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def describe_key(self) -> str:
        cols = ", ".join(self.key) or "-"
        return cols if self.key_name == "PRIMARY" else f"{cols} (unique `{self.key_name}`)"

    def all_versions(self) -> VersionedTable:
        return all_versions(self.name, self.version_columns)

    def as_of(self, instant: datetime) -> VersionedTable:
        return as_of_timestamp(self.name, self.version_columns, instant)

    def as_of_transaction(self, trx_id: int) -> VersionedTable:
        return as_of_transaction(self.name, self.version_columns, trx_id)

    def plain_with_period(self) -> sa.TableClause:
        """Current rows with the (invisible) period columns selectable by name."""
        cols = self.version_columns if self.period is not None else self.data_columns
        return sa.table(
            sa.sql.elements.quoted_name(self.name, quote=True),
            *(sa.column(sa.sql.elements.quoted_name(c, quote=True)) for c in cols),
        )

    def plain(self) -> sa.TableClause:
        """The table as it is now, without ``FOR SYSTEM_TIME``."""
        return sa.table(
            sa.sql.elements.quoted_name(self.name, quote=True),
            *(sa.column(sa.sql.elements.quoted_name(c, quote=True)) for c in self.data_columns),
        )


@dataclass(frozen=True)
class Catalogue:
    schema: str
    tables: Mapping[str, TableInfo] = field(default_factory=dict)

    def get(self, name: str) -> TableInfo:
        """Look up a table by exactly the name the user gave."""
        if name in self.tables:
            return self.tables[name]
        similar = [t for t in self.tables if t.lower() == name.lower()]
        hint = (
            f" Did you mean `{similar[0]}`?"
            if similar
            else " `/vault status` (or `flightvault doctor`) lists them."
        )
        shown = name if len(name) <= 64 else name[:61] + "..."
        raise UnknownTable(f"There is no table `{shown}` in database `{self.schema}`.{hint}")

    def watchable(self, name: str) -> TableInfo:
        """Like ``get``, but refuses tables that cannot be watched, saying why."""
        info = self.get(name)
        if info.problem:
            raise UnwatchableTable(f"`{info.name}` cannot be watched: {info.problem}.")
        return info

    def watched(self) -> list[TableInfo]:
        return [t for t in self.tables.values() if t.watchable]


def load_catalogue(conn: Connection, schema: str | None = None) -> Catalogue:
    """Introspect one schema (default: the connection's current database)."""
    schema = schema or conn.execute(sa.text("SELECT DATABASE()")).scalar_one()
    tables = conn.execute(
        sa.select(TABLES.c.TABLE_NAME, TABLES.c.TABLE_TYPE, TABLES.c.ENGINE, TABLES.c.TABLE_ROWS)
        .where(TABLES.c.TABLE_SCHEMA == schema)
        .where(TABLES.c.TABLE_TYPE.in_(["BASE TABLE", "SYSTEM VERSIONED"]))
        .order_by(TABLES.c.TABLE_NAME)
    ).all()
    columns = _columns(conn, schema)
    indexes = _indexes(conn, schema)
    fks = _foreign_keys(conn, schema)
    triggers = _triggers(conn, schema)
    result: dict[str, TableInfo] = {}
    for name, ttype, engine, rows in tables:
        versioned = ttype == "SYSTEM VERSIONED"
        denied = None
        period = None
        if versioned:
            try:
                with conn.begin_nested():
                    period = _period(conn, name, columns[name], indexes[name])
            except sa.exc.DBAPIError:
                denied = f"the account cannot read it; GRANT SELECT ON `{schema}`.`{name}`"
        info = _table_info(
            schema, name, engine or "", int(rows or 0), columns[name], indexes[name], period, fks
        )
        info = replace(info, triggers=tuple(t for t in triggers if t.table == name))
        result[name] = replace(info, problem=denied, access_error=denied) if denied else info
    return Catalogue(schema=schema, tables=result)


def _columns(conn: Connection, schema: str) -> dict[str, list[Column]]:
    out: dict[str, list[Column]] = defaultdict(list)
    c = _COLUMNS.c
    rows = conn.execute(
        sa.select(c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE, c.EXTRA)
        .where(c.TABLE_SCHEMA == schema)
        .order_by(c.TABLE_NAME, c.ORDINAL_POSITION)
    )
    for table, name, dtype, ctype, nullable, extra in rows:
        extra = (extra or "").upper()
        out[table].append(
            Column(
                name,
                dtype.lower(),
                ctype.lower(),
                nullable == "YES",
                generated="GENERATED" in extra,
                invisible="INVISIBLE" in extra,
            )
        )
    return out


def _triggers(conn: Connection, schema: str) -> list[Trigger]:
    t = _TRIGGERS.c
    rows = conn.execute(
        sa.select(
            t.TRIGGER_NAME,
            t.EVENT_OBJECT_TABLE,
            t.ACTION_TIMING,
            t.EVENT_MANIPULATION,
            t.ACTION_STATEMENT,
        )
        .where(t.TRIGGER_SCHEMA == schema)
        .order_by(t.EVENT_OBJECT_TABLE, t.ACTION_TIMING, t.EVENT_MANIPULATION, t.ACTION_ORDER)
    )
    return [
        Trigger(name, table, timing, event, body or "") for name, table, timing, event, body in rows
    ]


def _indexes(conn: Connection, schema: str) -> dict[str, dict[str, tuple[bool, list[str]]]]:
    """table -> index name -> (unique, ordered columns)."""
    out: dict[str, dict[str, tuple[bool, list[str]]]] = defaultdict(dict)
    rows = conn.execute(
        sa.select(
            _STATISTICS.c.TABLE_NAME,
            _STATISTICS.c.INDEX_NAME,
            _STATISTICS.c.COLUMN_NAME,
            _STATISTICS.c.NON_UNIQUE,
        )
        .where(_STATISTICS.c.TABLE_SCHEMA == schema)
        .order_by(_STATISTICS.c.TABLE_NAME, _STATISTICS.c.INDEX_NAME, _STATISTICS.c.SEQ_IN_INDEX)
    )
    for table, index, column, non_unique in rows:
        _unique, cols = out[table].setdefault(index, (int(non_unique) == 0, []))
        cols.append(column)
    return out


def _foreign_keys(conn: Connection, schema: str) -> list[ForeignKey]:
    """Foreign keys whose child or parent lives in ``schema``."""
    rc, ku = _REFERENTIAL, _KEY_USAGE
    rows = conn.execute(
        sa.select(
            ku.c.CONSTRAINT_SCHEMA,
            ku.c.CONSTRAINT_NAME,
            ku.c.TABLE_NAME,
            ku.c.COLUMN_NAME,
            ku.c.REFERENCED_TABLE_SCHEMA,
            ku.c.REFERENCED_TABLE_NAME,
            ku.c.REFERENCED_COLUMN_NAME,
            rc.c.DELETE_RULE,
            rc.c.UPDATE_RULE,
        )
        .select_from(
            ku.join(
                rc,
                sa.and_(
                    rc.c.CONSTRAINT_SCHEMA == ku.c.CONSTRAINT_SCHEMA,
                    rc.c.CONSTRAINT_NAME == ku.c.CONSTRAINT_NAME,
                    rc.c.TABLE_NAME == ku.c.TABLE_NAME,
                ),
            )
        )
        .where(sa.or_(ku.c.CONSTRAINT_SCHEMA == schema, ku.c.REFERENCED_TABLE_SCHEMA == schema))
        .order_by(ku.c.CONSTRAINT_SCHEMA, ku.c.TABLE_NAME, ku.c.CONSTRAINT_NAME)
        .order_by(ku.c.ORDINAL_POSITION)
    )
    grouped: dict[tuple[str, str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[(row[0], row[2], row[1])].append(tuple(row))
    return [
        ForeignKey(
            name=name,
            child_schema=cschema,
            child_table=ctable,
            child_columns=tuple(r[3] for r in parts),
            parent_schema=parts[0][4],
            parent_table=parts[0][5],
            parent_columns=tuple(r[6] for r in parts),
            on_delete=parts[0][7],
            on_update=parts[0][8],
        )
        for (cschema, ctable, name), parts in grouped.items()
    ]


def _period(
    conn: Connection,
    table: str,
    columns: list[Column],
    indexes: Mapping[str, tuple[bool, list[str]]],
) -> Period:
    quoted = conn.dialect.identifier_preparer.quote_identifier(table)
    ddl = conn.execute(sa.text(f"SHOW CREATE TABLE {quoted}")).one()[1]
    match = _PERIOD_RE.search(ddl)
    if match is None:
        start, end, implicit = IMPLICIT_START, IMPLICIT_END, True
        precision = Precision.TIMESTAMP
    else:
        start, end = (g.replace("``", "`") for g in match.groups())
        implicit = False
        start_type = next(c.data_type for c in columns if c.name == start)
        precision = Precision.TRANSACTION if "int" in start_type else Precision.TIMESTAMP
    leading = {cols[0] for name, (_unique, cols) in indexes.items() if name != "PRIMARY"}
    return Period(start, end, implicit, precision, end in leading, start in leading)


def _table_info(
    schema: str,
    name: str,
    engine: str,
    rows: int,
    columns: list[Column],
    indexes: Mapping[str, tuple[bool, list[str]]],
    period: Period | None,
    fks: Iterable[ForeignKey],
) -> TableInfo:
    period_cols = {period.start, period.end} if period else set()
    data = tuple(c for c in columns if c.name not in period_cols)
    uniques = {
        idx: tuple(c for c in cols if c not in period_cols)
        for idx, (unique, cols) in indexes.items()
        if unique
    }
    key_name, key = _identity(uniques, {c.name for c in data if not c.nullable})
    problem = None
    if period is None:
        problem = (
            "it is not system-versioned (`flightvault doctor` prints the statement that "
            "protects it; `/vault protect` runs it after a second approval)"
        )
    elif not key:
        problem = (
            "it has neither a primary key nor a UNIQUE key over NOT NULL columns, so rows "
            "cannot be matched across versions"
        )
    return TableInfo(
        schema=schema,
        name=name,
        engine=engine,
        estimated_rows=rows,
        columns=data,
        key=key,
        key_name=key_name,
        unique_keys=tuple(cols for idx, cols in uniques.items() if idx != "PRIMARY"),
        period=period,
        outgoing=tuple(f for f in fks if f.child_schema == schema and f.child_table == name),
        incoming=tuple(f for f in fks if f.parent_schema == schema and f.parent_table == name),
        problem=problem,
    )


def _identity(
    uniques: Mapping[str, tuple[str, ...]], not_null: set[str]
) -> tuple[str, tuple[str, ...]]:
    """The primary key, else the narrowest UNIQUE key over NOT NULL columns: InnoDB uses such
    a key as the row identity when there is no primary key, and so can we."""
    if uniques.get("PRIMARY"):
        return "PRIMARY", uniques["PRIMARY"]
    candidates = sorted(
        (len(cols), idx, cols)
        for idx, cols in uniques.items()
        if cols and all(c in not_null for c in cols)
    )
    if not candidates:
        return "PRIMARY", ()
    _, idx, cols = candidates[0]
    return idx, cols
