"""What the database account may do, read from ``information_schema``'s privilege views.

Watching needs SELECT; restoring also needs INSERT, UPDATE, DELETE and
CREATE TEMPORARY TABLES. The plan checks before anything is previewed, so a
watch-only account gets one sentence naming the missing grant instead of a
failed transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

RESTORE = ("INSERT", "UPDATE", "DELETE", "CREATE TEMPORARY TABLES")

_USER = sa.table(
    "USER_PRIVILEGES",
    sa.column("GRANTEE"),
    sa.column("PRIVILEGE_TYPE"),
    schema="information_schema",
)
_SCHEMA = sa.table(
    "SCHEMA_PRIVILEGES",
    sa.column("GRANTEE"),
    sa.column("TABLE_SCHEMA"),
    sa.column("PRIVILEGE_TYPE"),
    schema="information_schema",
)
_TABLE = sa.table(
    "TABLE_PRIVILEGES",
    sa.column("GRANTEE"),
    sa.column("TABLE_SCHEMA"),
    sa.column("TABLE_NAME"),
    sa.column("PRIVILEGE_TYPE"),
    schema="information_schema",
)


def grantee(conn: Connection) -> str:
    user, _, host = str(conn.execute(sa.text("SELECT CURRENT_USER()")).scalar_one()).partition("@")
    return f"'{user}'@'{host}'"


def missing_restore_privileges(conn: Connection, schema: str, tables: Iterable[str]) -> list[str]:
    who = grantee(conn)
    held = set(
        conn.execute(sa.select(_USER.c.PRIVILEGE_TYPE).where(_USER.c.GRANTEE == who)).scalars()
    )
    held |= set(
        conn.execute(
            sa.select(_SCHEMA.c.PRIVILEGE_TYPE).where(
                _SCHEMA.c.GRANTEE == who, _SCHEMA.c.TABLE_SCHEMA == schema
            )
        ).scalars()
    )
    names = sorted(set(tables))
    per_table: dict[str, set[str]] = {n: set() for n in names}
    rows = conn.execute(
        sa.select(_TABLE.c.TABLE_NAME, _TABLE.c.PRIVILEGE_TYPE).where(
            _TABLE.c.GRANTEE == who, _TABLE.c.TABLE_SCHEMA == schema, _TABLE.c.TABLE_NAME.in_(names)
        )
    )
    for table, privilege in rows:
        per_table[table].add(privilege)
    missing = []
    for privilege in RESTORE:
        if privilege in held or "ALL PRIVILEGES" in held:
            continue
        if (
            privilege != "CREATE TEMPORARY TABLES"
            and names
            and all(privilege in per_table[n] for n in names)
        ):
            continue
        missing.append(privilege)
    return missing


def holds(conn: Connection, privilege: str, *, schema: str | None = None, table: str = "") -> bool:
    """Whether the account holds ``privilege`` globally, on ``schema`` or on ``table``."""
    who = grantee(conn)
    wanted = [privilege, "ALL PRIVILEGES"]
    found = conn.execute(
        sa.select(sa.func.count())
        .select_from(_USER)
        .where(_USER.c.GRANTEE == who, _USER.c.PRIVILEGE_TYPE.in_(wanted))
    ).scalar_one()
    if found or schema is None:
        return bool(found)
    found = conn.execute(
        sa.select(sa.func.count())
        .select_from(_SCHEMA)
        .where(
            _SCHEMA.c.GRANTEE == who,
            _SCHEMA.c.TABLE_SCHEMA == schema,
            _SCHEMA.c.PRIVILEGE_TYPE.in_(wanted),
        )
    ).scalar_one()
    if found or not table:
        return bool(found)
    return bool(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(_TABLE)
            .where(
                _TABLE.c.GRANTEE == who,
                _TABLE.c.TABLE_SCHEMA == schema,
                _TABLE.c.TABLE_NAME == table,
                _TABLE.c.PRIVILEGE_TYPE.in_(wanted),
            )
        ).scalar_one()
    )
