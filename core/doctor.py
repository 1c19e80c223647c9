"""``flightvault doctor``: is this database ready to be watched, and what would help.

The report is data; ``usecases.render.doctor`` turns it into text. Problems that
make watching impossible (no connection, missing privileges) raise; problems
that make it weaker (no index, forgeable history) become advice.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import Catalogue, Precision, TableInfo, load_catalogue
from core.errors import InsufficientPrivilege
from core.history import HistoryStats, history_stats
from core.protect import unversioned

_SETTINGS = (
    "secure_timestamp",
    "system_versioning_insert_history",
    "system_versioning_alter_history",
)


@dataclass(frozen=True, slots=True)
class TableReport:
    info: TableInfo
    stats: HistoryStats | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DoctorReport:
    server_version: str
    schema: str
    user: str
    server_settings: dict[str, str]
    tables: tuple[TableReport, ...]
    warnings: tuple[str, ...]
    advice: tuple[str, ...]
    unprotected: tuple[tuple[str, str], ...] = ()  # (table, statements or why it cannot be)

    @property
    def healthy(self) -> bool:
        return not any(t.error for t in self.tables)


def run_doctor(conn: Connection) -> DoctorReport:
    version, user = conn.execute(sa.text("SELECT VERSION(), CURRENT_USER()")).one()
    catalogue = load_catalogue(conn)
    if not catalogue.tables:
        raise InsufficientPrivilege(
            f"No tables are visible in `{catalogue.schema}` to {user}: either the database is "
            f"empty or the account lacks privileges (GRANT SELECT ON `{catalogue.schema}`.* "
            f"TO {user})."
        )
    settings = _server_settings(conn)
    reports = tuple(_table_report(conn, catalogue, t) for t in catalogue.tables.values())
    return DoctorReport(
        server_version=str(version),
        schema=catalogue.schema,
        user=str(user),
        server_settings=settings,
        tables=reports,
        warnings=tuple(_setting_warnings(settings)),
        advice=tuple(_advice(catalogue, user)),
        unprotected=tuple((t.name, said) for t, said in unversioned(conn, catalogue)),
    )


def _server_settings(conn: Connection) -> dict[str, str]:
    rows = conn.execute(
        sa.text("SHOW GLOBAL VARIABLES WHERE Variable_name IN :names").bindparams(
            sa.bindparam("names", expanding=True)
        ),
        {"names": list(_SETTINGS)},
    )
    return {str(name): str(value) for name, value in rows}


def _table_report(conn: Connection, catalogue: Catalogue, table: TableInfo) -> TableReport:
    if table.access_error:
        return TableReport(table, None, table.access_error)
    if not table.watchable:
        return TableReport(table, None)
    try:
        with conn.begin_nested():
            return TableReport(table, history_stats(conn, table))
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        grant = f"GRANT SELECT ON `{catalogue.schema}`.`{table.name}`"
        if table.period and table.period.precision is Precision.TRANSACTION:
            grant += " and GRANT SELECT ON mysql.transaction_registry"
        return TableReport(table, None, f"cannot read history ({reason}); needs {grant}")


def _setting_warnings(settings: dict[str, str]) -> list[str]:
    out = []
    if settings.get("secure_timestamp", "").upper() in {"NO", "REPLICATION"}:
        out.append(
            "secure_timestamp allows sessions to SET TIMESTAMP, so history instants can be "
            "forged; set secure_timestamp=YES (or SUPER) in the server config."
        )
    if settings.get("system_versioning_insert_history", "").upper() == "ON":
        out.append(
            "system_versioning_insert_history=ON lets users with INSERT write history rows "
            "directly; turn it OFF unless you are importing history."
        )
    if settings.get("system_versioning_alter_history", "").upper() == "KEEP":
        out.append(
            "system_versioning_alter_history=KEEP lets ALTER TABLE rewrite history; FlightVault "
            "refuses to restore across DDL, but prefer ERROR."
        )
    return out


def _advice(catalogue: Catalogue, user: str) -> list[str]:
    out: list[str] = []
    for t in catalogue.tables.values():
        p = t.period
        if p is None:
            versioned_parents = [
                fk.parent_table
                for fk in t.outgoing
                if catalogue.tables.get(fk.parent_table, t).period is not None
            ]
            if versioned_parents:
                out.append(
                    f"`{t.name}` references versioned {', '.join(sorted(set(versioned_parents)))} "
                    "but keeps no history: rows it loses by cascade cannot be restored; "
                    "protect it (statement below, or `/vault protect`)."
                )
            continue
        if p.implicit:
            out.append(
                f"`{t.name}` uses implicit period columns, which cannot be indexed, so finding "
                "changes scans the table; recreate it with explicit ROW START/ROW END columns "
                "and INDEX (row_end) (converting in place needs MariaDB 11.7+)."
            )
        elif not p.end_indexed:
            out.append(
                f"`{t.name}` has no index on `{p.end}`: ALTER TABLE `{t.name}` "
                f"ADD INDEX (`{p.end}`) makes change detection take milliseconds, not a scan."
            )
        if t.watchable and not p.implicit and not p.start_indexed:
            out.append(
                f"Optional: ALTER TABLE `{t.name}` ADD INDEX (`{p.start}`) "
                "speeds up counting inserts."
            )
    return out
