"""Emergency freeze: stop further writes while people look.

MariaDB has no per-table *deny*: ``REVOKE`` only removes a grant made at
exactly that level, so an account granted ``INSERT`` on the whole database
keeps writing a table after a table-level revoke. A table is therefore
frozen with ``BEFORE INSERT/UPDATE/DELETE`` triggers that ``SIGNAL`` an error
for every account except FlightVault's own: they stop every other writer
whatever its grants, survive restarts, and leave the restore account free to
restore while frozen. The whole server is frozen with ``read_only`` as the
MariaDB documentation recommends; the restore account keeps writing through
its ``READ_ONLY ADMIN`` privilege. DDL such as ``TRUNCATE`` or ``DROP`` is not a
row write; only the server freeze stops it.

Unfreezing follows the two-person rule: ``request_unfreeze`` and
``approve_unfreeze`` are pure decisions, applied by compare-and-set.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import TableInfo
from core.errors import VaultError, not_allowed
from core.privileges import grantee, holds
from core.state.freezes import Freeze, FreezeState

EVENTS = {"INSERT": "i", "UPDATE": "u", "DELETE": "d"}
SQLSTATE = "45000"


class FreezeRefused(VaultError):
    """The freeze or unfreeze cannot be done; the sentence says why and what to grant."""


def trigger_names(table: str) -> dict[str, str]:
    """Our trigger per event; named by a hash so any table name fits in 64 characters."""
    tag = hashlib.sha1(table.encode()).hexdigest()[:12]
    return {event: f"fv_freeze_{tag}_{suffix}" for event, suffix in EVENTS.items()}


def _literal(conn: Connection, value: str) -> str:
    """A string literal for DDL (triggers take no bound parameters), quoted by the dialect."""
    return str(
        sa.literal(value, sa.String()).compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}
        )
    )


def account_name(conn: Connection) -> str:
    return str(conn.execute(sa.text("SELECT CURRENT_USER()")).scalar_one()).partition("@")[0]


def freeze_table(conn: Connection, schema: str, table: TableInfo) -> None:
    """Block writes to ``table`` by every account but this one. Idempotent."""
    if not holds(conn, "TRIGGER", schema=schema, table=table.name):
        raise FreezeRefused(
            f"FlightVault's database account cannot freeze `{table.name}`: it needs "
            f"GRANT TRIGGER ON `{schema}`.* TO {grantee(conn)}. Nothing changed."
        )
    me = _literal(conn, account_name(conn))
    message = _literal(conn, f"Frozen by FlightVault during an incident: {table.name}"[:128])
    quote = conn.dialect.identifier_preparer.quote
    for event, name in trigger_names(table.name).items():
        conn.exec_driver_sql(
            f"CREATE OR REPLACE TRIGGER {quote(name)} BEFORE {event} ON {quote(table.name)} "
            f"FOR EACH ROW IF SUBSTRING_INDEX(USER(), '@', 1) <> {me} THEN "
            f"SIGNAL SQLSTATE '{SQLSTATE}' SET MESSAGE_TEXT = {message}; END IF"
        )


def unfreeze_table(conn: Connection, table: str) -> None:
    quote = conn.dialect.identifier_preparer.quote
    for name in trigger_names(table).values():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {quote(name)}")


def table_frozen(conn: Connection, schema: str, table: str) -> bool:
    """Whether all three freeze triggers are in place (what the database says, not the store)."""
    triggers = sa.table(
        "TRIGGERS",
        sa.column("TRIGGER_SCHEMA"),
        sa.column("TRIGGER_NAME"),
        schema="information_schema",
    )
    names = list(trigger_names(table).values())
    found = conn.execute(
        sa.select(sa.func.count())
        .select_from(triggers)
        .where(triggers.c.TRIGGER_SCHEMA == schema, triggers.c.TRIGGER_NAME.in_(names))
    ).scalar_one()
    return bool(found == len(names))


def freeze_server(conn: Connection) -> None:
    if not holds(conn, "READ_ONLY ADMIN"):
        raise FreezeRefused(
            "FlightVault's database account cannot make the server read-only: it needs "
            f"GRANT READ_ONLY ADMIN ON *.* TO {grantee(conn)} (it also lets the restore write "
            "while frozen). Nothing changed."
        )
    if server_read_only(conn):
        raise FreezeRefused(
            "The server is already read-only (read_only = ON) and FlightVault did not set it; "
            "nothing to freeze."
        )
    conn.exec_driver_sql("SET GLOBAL read_only = ON")


def unfreeze_server(conn: Connection) -> None:
    if not holds(conn, "READ_ONLY ADMIN"):
        raise FreezeRefused(
            f"FlightVault's database account needs GRANT READ_ONLY ADMIN ON *.* TO "
            f"{grantee(conn)} to lift read_only. Nothing changed."
        )
    conn.exec_driver_sql("SET GLOBAL read_only = OFF")


def server_read_only(conn: Connection) -> bool:
    return bool(conn.execute(sa.text("SELECT @@GLOBAL.read_only")).scalar_one())


# ---------------------------------------------------------------------- two-person unfreeze


def request_unfreeze(f: Freeze, user: str, *, authorised: bool) -> Freeze:
    if not authorised:
        raise FreezeRefused(not_allowed("unfreeze"))
    if f.state is FreezeState.UNFREEZING:
        raise FreezeRefused(
            f"{f.requester} already asked to unfreeze {f.target}; it needs a second person "
            "to approve.",
            people=(f.requester or "",),
        )
    if f.state is FreezeState.LIFTED:
        raise FreezeRefused(f"{f.target} is not frozen any more. Nothing changed.")
    return replace(f, state=FreezeState.UNFREEZING, requester=user, approvals=())


def approve_unfreeze(f: Freeze, user: str, *, authorised: bool, required: int) -> Freeze:
    """The freeze after this approval; LIFTED when it is the last one needed."""
    if f.state is FreezeState.LIFTED:
        raise FreezeRefused(f"{f.target} is not frozen any more. Nothing changed.")
    if f.state is not FreezeState.UNFREEZING:
        raise FreezeRefused("Nobody has asked to unfreeze this; nothing to approve.")
    if not authorised:
        raise FreezeRefused(not_allowed("approve an unfreeze"))
    if user == f.requester:
        raise FreezeRefused(
            "You asked for this unfreeze, so a second, different person must approve it."
        )
    if user in f.approvals:
        raise FreezeRefused("You have already approved this unfreeze; it needs someone else now.")
    approvals = (*f.approvals, user)
    done = len(approvals) >= required
    return replace(f, approvals=approvals, state=FreezeState.LIFTED if done else f.state)


def cancel_unfreeze(f: Freeze, user: str, *, authorised: bool) -> Freeze:
    if f.state is not FreezeState.UNFREEZING:
        raise FreezeRefused("There is no pending unfreeze to cancel. Nothing changed.")
    if user != f.requester and not authorised:
        raise FreezeRefused("Only the requester or an approver can cancel this unfreeze.")
    return replace(f, state=FreezeState.FROZEN, requester=None, approvals=())
