"""Protecting a table: the statements that make it system-versioned, its size, the cost.

Most production tables are not versioned on day one, so FlightVault protects
nothing until someone runs this. The statement adds explicit
``row_start``/``row_end`` columns (explicit columns, unlike ``ADD SYSTEM
VERSIONING`` alone, can carry the index on ``row_end`` that makes change
detection take milliseconds) and that index in the same ``ALTER``: one table
rebuild instead of two. MariaDB rebuilds the table to add versioning
(``ALGORITHM=COPY``); ``LOCK=SHARED`` says so out loud: reads go on, writes wait
until the copy ends. The estimate is the table's data+index bytes divided by a
copy rate measured on this kind of machine (``bench/protect.py``).

Refusals name what the server or FlightVault cannot do: an unknown table, one
already versioned, a non-InnoDB engine, no row identity (a primary key or a
UNIQUE key over NOT NULL columns), a server without system versioning.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.catalogue import Catalogue, TableInfo, load_catalogue
from core.errors import VaultError
from core.information_schema import TableSize, table_size
from core.privileges import grantee, holds

MIN_VERSION = (10, 3, 4)  # system versioning arrived in MariaDB 10.3.4
START, END = "row_start", "row_end"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


class ProtectRefused(VaultError):
    """The table cannot be protected as asked; the sentence says why."""


@dataclass(frozen=True, slots=True)
class ProtectPlan:
    """What ``/vault protect`` previews and, once approved, runs."""

    table: str
    start: str
    end: str
    statements: tuple[str, ...]
    size: TableSize
    rate: float  # bytes per second the copy is assumed to run at
    seconds: float  # the estimate

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProtectPlan:
        return cls(
            table=data["table"],
            start=data["start"],
            end=data["end"],
            statements=tuple(data["statements"]),
            size=TableSize(**data["size"]),
            rate=float(data["rate"]),
            seconds=float(data["seconds"]),
        )


@dataclass(frozen=True, slots=True)
class ProtectOutcome:
    table: str
    seconds: float
    end_indexed: bool


def server_version(conn: Connection) -> str:
    return str(conn.execute(sa.text("SELECT VERSION()")).scalar_one())


def check_server(version: str) -> None:
    """Refuse servers without system versioning (MySQL, MariaDB before 10.3.4)."""
    found = _VERSION.match(version)
    if "mariadb" not in version.lower() or found is None:
        raise ProtectRefused(
            f"The server ({version[:60]}) is not MariaDB: system-versioned tables are a "
            "MariaDB feature. Nothing changed."
        )
    if tuple(int(g) for g in found.groups()) < MIN_VERSION:
        raise ProtectRefused(
            f"MariaDB {found.group(0)} has no system versioning (it arrived in 10.3.4); "
            "upgrade the server first. Nothing changed."
        )


def check_protectable(info: TableInfo) -> None:
    """Raise the sentence saying why ``info`` cannot be protected, if it cannot."""
    if info.period is not None:
        raise ProtectRefused(
            f"`{info.name}` is already system-versioned; nothing to protect. "
            "`flightvault doctor` shows its period columns."
        )
    if not info.transactional:
        raise ProtectRefused(
            f"`{info.name}` uses the {info.engine} engine; FlightVault protects only InnoDB "
            "tables (restores must roll back). Convert it with ALTER TABLE … ENGINE=InnoDB "
            "first. Nothing changed."
        )
    if not info.key:
        raise ProtectRefused(
            f"`{info.name}` has neither a primary key nor a UNIQUE key over NOT NULL columns, "
            "so FlightVault could not tell its rows apart across versions; add one first. "
            "Nothing changed."
        )


def period_names(info: TableInfo) -> tuple[str, str]:
    """``row_start``/``row_end``, or ``fv_``-prefixed names when the table already uses them."""
    taken = {c.name.lower() for c in info.columns}
    names = []
    for base in (START, END):
        name = base
        while name.lower() in taken:
            name = f"fv_{name}"
        names.append(name)
    return names[0], names[1]


def protect_statements(conn: Connection, info: TableInfo) -> tuple[str, ...]:
    """The DDL, identifiers from the catalogue, quoted by the dialect."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    start, end = (quote(n) for n in period_names(info))
    return (
        f"ALTER TABLE {quote(info.name)}"
        f" ADD COLUMN {start} TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
        f" ADD COLUMN {end} TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
        f" ADD PERIOD FOR SYSTEM_TIME({start}, {end}),"
        f" ADD SYSTEM VERSIONING,"
        f" ADD INDEX ({end}),"
        " ALGORITHM=COPY, LOCK=SHARED",
    )


def estimate_seconds(size: TableSize, rate: float) -> float:
    """The copy's duration: bytes over the measured rate, plus a fixed cost for the rebuild's
    set-up (never zero: even an empty table takes the metadata lock)."""
    return 0.2 + size.total / rate


def check_may_alter(conn: Connection, schema: str, table: str) -> None:
    """Refuse now, naming the GRANT, when FlightVault's account may not ALTER the table:
    otherwise the request would fail only after two people had approved it."""
    if holds(conn, "ALTER", schema=schema, table=table):
        return
    quote = conn.dialect.identifier_preparer.quote_identifier
    raise ProtectRefused(
        f"FlightVault's database account may not ALTER `{table}`, which versioning it needs; "
        f"grant it first (GRANT ALTER ON {quote(schema)}.{quote(table)} TO {grantee(conn)}). "
        "Nothing changed."
    )


def plan_protect(conn: Connection, catalogue: Catalogue, name: str, *, rate: float) -> ProtectPlan:
    """The preview: refusals first (the account's ALTER grant among them), then statements,
    size and estimate."""
    check_server(server_version(conn))
    info = catalogue.get(name)
    check_protectable(info)
    check_may_alter(conn, catalogue.schema, info.name)
    size = table_size(conn, catalogue.schema, info.name)
    start, end = period_names(info)
    return ProtectPlan(
        table=info.name,
        start=start,
        end=end,
        statements=protect_statements(conn, info),
        size=size,
        rate=rate,
        seconds=estimate_seconds(size, rate),
    )


def unversioned(conn: Connection, catalogue: Catalogue) -> list[tuple[TableInfo, str]]:
    """Every table not yet versioned, with its statements or why it cannot be protected."""
    out = []
    for info in catalogue.tables.values():
        if info.period is not None or info.access_error:
            continue
        try:
            check_protectable(info)
        except ProtectRefused as exc:
            out.append((info, f"cannot be protected: {exc}"))
            continue
        out.append((info, ";\n".join(protect_statements(conn, info)) + ";"))
    return out


def execute_protect(engine: Engine, plan: ProtectPlan) -> ProtectOutcome:
    """Run the approved statements after checking again that the table still qualifies
    (someone may have versioned or dropped it since the preview)."""
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        info = catalogue.get(plan.table)
        check_protectable(info)
        if period_names(info) != (plan.start, plan.end):
            raise ProtectRefused(
                f"`{plan.table}`'s columns changed since the preview; preview it again."
            )
        statements = protect_statements(conn, info)
        began = time.monotonic()
        for statement in statements:
            conn.exec_driver_sql(statement)
        seconds = time.monotonic() - began
        after = load_catalogue(conn).get(plan.table)
    if after.period is None:
        raise ProtectRefused(f"`{plan.table}` is still not system-versioned after the ALTER.")
    return ProtectOutcome(plan.table, seconds, after.period.end_indexed)
