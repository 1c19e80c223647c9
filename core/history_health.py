"""History health: the history window is the recovery window, so watch the window itself.

Each check returns ``HealthFinding``s keyed by condition; the caller remembers them
(``core.state.conditions``) so a condition alerts once when it starts and
once when it clears, never once per poll. Conditions of one kind share one
digest message (``digest_kind``), whatever the number of tables: each
finding's detail is the digest's line for its table. Conditions:

* ``short:<table>``: history reaches back less than the minimum (DELETE HISTORY,
  dropped partitions, or a young table). The start is the oldest stored
  version's ``row_start``, the figure ``/vault status`` shows.
* ``versioning:<table>``: a table that was system-versioned no longer is (an
  ``ALTER TABLE … DROP SYSTEM VERSIONING``): its history is gone and no more is written.
* ``secure_timestamp`` / ``alter_history``: server settings that let history be
  forged (``SET TIMESTAMP`` + ``system_versioning_insert_history``) or rewritten by ALTER.
* ``partitions:<table>``: the last HISTORY partition of a ``PARTITION BY SYSTEM_TIME``
  table is nearly full (``LIMIT``) or nearly past its interval (``INTERVAL`` without ``AUTO``);
  after that, history piles into it and rotation drops more than intended.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import Catalogue, TableInfo
from core.finder import first_version
from core.information_schema import PARTITIONS
from core.timeutil import fmt_instant


@dataclass(frozen=True, slots=True)
class HealthFinding:
    key: str  # "<kind>:<table>", or a server setting's name
    active: bool
    detail: str  # one line naming the table: what the digest lists while it holds


SERVER = "server"  # the digest of server-wide settings


def digest_kind(key: str) -> str:
    """The digest a condition is listed in: its kind for a table's condition ("short",
    "versioning", "partitions", "drill"), one digest for the server's settings."""
    kind, sep, _ = key.partition(":")
    return kind if sep else SERVER


_LIMIT = re.compile(r"PARTITION BY SYSTEM_TIME\s+LIMIT\s+(\d+)", re.IGNORECASE)
_AUTO = re.compile(r"PARTITION BY SYSTEM_TIME\s+INTERVAL\b[^\n]*\bAUTO\b", re.IGNORECASE)


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 72 else f"{hours / 24:.1f} days"


def short_history(
    conn: Connection, tables: Iterable[TableInfo], *, now: datetime, minimum: timedelta
) -> list[HealthFinding]:
    found = []
    for t in tables:
        start = first_version(conn, t)
        if start is None:  # transaction-precise or empty: no instant to compare
            continue
        window = now - start
        found.append(
            HealthFinding(
                f"short:{t.name}",
                window < minimum,
                f"`{t.name}`: {_span(window)} of history (since {fmt_instant(start)}); "
                f"VAULT_HISTORY_MIN asks for {_span(minimum)}",
            )
        )
    return found


def versioning(catalogue: Catalogue, remembered: set[str]) -> list[HealthFinding]:
    """``remembered``: tables once seen versioned. A versioned table is recorded (inactive);
    a remembered one that is still there but unversioned is the condition."""
    found = []
    for t in catalogue.tables.values():
        versioned = t.period is not None
        if not versioned and t.name not in remembered:
            continue
        found.append(
            HealthFinding(
                f"versioning:{t.name}",
                not versioned,
                f"`{t.name}` is no longer system-versioned",
            )
        )
    return found


def server_settings(conn: Connection) -> list[HealthFinding]:
    stamp, alter = conn.execute(
        sa.text("SELECT @@GLOBAL.secure_timestamp, @@GLOBAL.system_versioning_alter_history")
    ).one()
    return [
        HealthFinding(
            "secure_timestamp",
            str(stamp).upper() == "NO",
            "The server runs with secure_timestamp = NO: any session can SET TIMESTAMP, so "
            "with system_versioning_insert_history a user with INSERT can forge history rows. "
            "Set secure_timestamp = YES (or SUPER) in the server's configuration.",
        ),
        HealthFinding(
            "alter_history",
            str(alter).upper() == "KEEP",
            "The server runs with system_versioning_alter_history = KEEP: an ALTER TABLE can "
            "rewrite history. Set it to ERROR unless a migration needs it.",
        ),
    ]


def partitions(
    conn: Connection, schema: str, *, now: datetime, warn_at: float
) -> list[HealthFinding]:
    rows = conn.execute(
        sa.select(
            PARTITIONS.c.TABLE_NAME,
            PARTITIONS.c.PARTITION_NAME,
            PARTITIONS.c.PARTITION_DESCRIPTION,
        )
        .where(
            PARTITIONS.c.TABLE_SCHEMA == schema,
            PARTITIONS.c.PARTITION_METHOD == "SYSTEM_TIME",
        )
        .order_by(PARTITIONS.c.TABLE_NAME, PARTITIONS.c.PARTITION_ORDINAL_POSITION)
    ).all()
    history: dict[str, list[tuple[str, str | None]]] = {}
    for table, name, description in rows:
        if description != "CURRENT":
            history.setdefault(table, []).append((name, description))
    quote = conn.dialect.identifier_preparer.quote
    found = []
    for table, parts in history.items():
        ddl = conn.execute(sa.text(f"SHOW CREATE TABLE {quote(table)}")).one()[1]
        if _AUTO.search(ddl):
            continue  # the server adds partitions as needed
        last, bound = parts[-1]
        if (limit := _LIMIT.search(ddl)) is not None:
            size = int(limit.group(1))
            held = conn.execute(
                sa.text(f"SELECT COUNT(*) FROM {quote(table)} PARTITION ({quote(last)})")
            ).scalar_one()
            full = held / size
            what = f"its last HISTORY partition `{last}` holds {held:,} of LIMIT {size:,} rows"
        elif bound is not None:
            end = datetime.fromisoformat(bound).replace(tzinfo=UTC)
            step = (
                end - datetime.fromisoformat(parts[-2][1]).replace(tzinfo=UTC)
                if len(parts) > 1 and parts[-2][1]
                else timedelta(0)
            )
            full = 1.0 if now >= end else 1 - (end - now) / step if step else 0.0
            what = f"its last HISTORY partition `{last}` covers history only until {bound} UTC"
        else:
            continue
        found.append(
            HealthFinding(
                f"partitions:{table}",
                full >= warn_at,
                f"`{table}`: {what}",
            )
        )
    return found
