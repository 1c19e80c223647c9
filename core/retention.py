"""History retention: the history is the recovery window, and it grows forever.

A retention keeps at least ``keep`` of history, never less than
``VAULT_HISTORY_MIN``. Pruning removes only closed versions (``row_end`` before
the cut); current rows have ``row_end`` at the maximum timestamp and the cut is
always in the past, so they are never touched.

Two ways, chosen from the table's own definition:

* ``partitions``: a table ``PARTITION BY SYSTEM_TIME INTERVAL`` drops its oldest
  HISTORY partitions whose upper bound is at or before the cut (MariaDB allows
  dropping only the oldest ones when rotating by INTERVAL, and one HISTORY
  partition always stays). A drop is a metadata change, not a row-by-row delete;
  the window it leaves is partition-granular, so it keeps *more* than asked,
  never less.
* ``delete``: ``DELETE HISTORY FROM t BEFORE SYSTEM_TIME x`` has no ``LIMIT``, so
  the cut is reached in steps: each step's bound is the ``row_end`` found
  ``batch`` versions into the oldest history (through the ``row_end`` index),
  and each step commits on its own, so no statement deletes more than about
  ``batch`` rows or holds locks for long. Versions closed by one statement share
  one ``row_end`` and are never split, so a step can exceed ``batch`` by at most
  one statement's versions.

Transaction-precise tables (``row_end`` a transaction id) are refused: their
``BEFORE SYSTEM_TIME`` instants go through ``mysql.transaction_registry``, which
FlightVault does not prune.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.catalogue import Precision, TableInfo
from core.errors import VaultError
from core.history import history_stats
from core.information_schema import PARTITIONS as _PARTITIONS
from core.information_schema import table_size
from core.privileges import grantee, holds
from core.timeutil import to_db

log = logging.getLogger(__name__)
PARTITIONS = "partitions"
DELETE = "delete"


class RetentionRefused(VaultError):
    """The retention cannot be set as asked; the sentence says why."""


@dataclass(frozen=True, slots=True)
class HistoryWindow:
    """What ``/vault status`` shows per table."""

    table: str
    oldest: datetime | None  # the earliest instant a restore can reach
    rows: int  # closed versions kept
    bytes: int  # exact for history partitions, else pro rata of the table's size
    exact_bytes: bool


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    bound: datetime | None  # upper bound of an INTERVAL history partition; None for LIMIT


@dataclass(frozen=True, slots=True)
class PruneOutcome:
    table: str
    method: str
    cut: datetime
    rows: int  # history rows removed (counted for partitions before they are dropped)
    batches: int
    dropped: tuple[str, ...] = ()


def check_retention(info: TableInfo, keep: timedelta, minimum: timedelta) -> None:
    if info.period is None or not info.watchable:
        raise RetentionRefused(
            f"`{info.name}` is not a watched system-versioned table, so it keeps no history "
            f"to prune; `/vault protect {info.name}` versions it."
        )
    if info.period.precision is not Precision.TIMESTAMP:
        raise RetentionRefused(
            f"`{info.name}` is versioned by transaction id; FlightVault prunes only "
            "timestamp-versioned history. Nothing changed."
        )
    if keep < minimum:
        raise RetentionRefused(
            f"A retention of {_span(keep)} is shorter than VAULT_HISTORY_MIN ({_span(minimum)}), "
            "the shortest recovery window FlightVault keeps. Nothing changed."
        )


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds / 3600:.1f}h" if seconds >= 3600 else f"{int(seconds)}s"


def history_partitions(conn: Connection, schema: str, table: str) -> list[Partition] | None:
    """The HISTORY partitions oldest first, or None when the table is not partitioned by
    SYSTEM_TIME INTERVAL (LIMIT partitions have no time bound to rotate by)."""
    p = _PARTITIONS.c
    rows = conn.execute(
        sa.select(p.PARTITION_NAME, p.PARTITION_DESCRIPTION, p.PARTITION_METHOD)
        .where(p.TABLE_SCHEMA == schema, p.TABLE_NAME == table)
        .order_by(p.PARTITION_ORDINAL_POSITION)
    ).all()
    if not rows or any(method != "SYSTEM_TIME" for _n, _d, method in rows):
        return None
    history = [(name, desc) for name, desc, _m in rows if desc != "CURRENT"]
    if not history or any(desc is None for _n, desc in history):
        return None
    return [Partition(name, datetime.fromisoformat(desc)) for name, desc in history]


def check_may_prune(conn: Connection, schema: str, table: str, method: str) -> None:
    """Refuse now, naming the GRANT, when FlightVault's account may not prune the table the
    way ``method`` does (DELETE HISTORY; or ALTER … DROP PARTITION, which needs both ALTER
    and DROP): otherwise the request would fail only after two people had approved it."""
    needed = ("ALTER", "DROP") if method == PARTITIONS else ("DELETE HISTORY",)
    missing = [p for p in needed if not holds(conn, p, schema=schema, table=table)]
    if not missing:
        return
    quote = conn.dialect.identifier_preparer.quote_identifier
    raise RetentionRefused(
        f"FlightVault's database account may not prune `{table}`'s history; grant it first "
        f"(GRANT {', '.join(missing)} ON {quote(schema)}.{quote(table)} TO {grantee(conn)}). "
        "Nothing changed."
    )


def method_for(conn: Connection, schema: str, table: str) -> str:
    return PARTITIONS if history_partitions(conn, schema, table) else DELETE


def history_window(conn: Connection, schema: str, info: TableInfo) -> HistoryWindow:
    stats = history_stats(conn, info)
    p = _PARTITIONS.c
    parts = conn.execute(
        sa.select(sa.func.sum(p.DATA_LENGTH + p.INDEX_LENGTH)).where(
            p.TABLE_SCHEMA == schema,
            p.TABLE_NAME == info.name,
            p.PARTITION_METHOD == "SYSTEM_TIME",
            p.PARTITION_DESCRIPTION != "CURRENT",
        )
    ).scalar_one_or_none()
    if parts is not None:
        return HistoryWindow(info.name, stats.versions_since, stats.history_rows, int(parts), True)
    size = table_size(conn, schema, info.name)
    total_rows = stats.history_rows + size.rows
    share = stats.history_rows / total_rows if total_rows else 0.0
    return HistoryWindow(
        info.name, stats.versions_since, stats.history_rows, int(size.total * share), False
    )


def prune(
    engine: Engine, schema: str, info: TableInfo, *, cut: datetime, batch: int
) -> PruneOutcome:
    """Remove history closed before ``cut``; partitions when the table has them."""
    assert info.period is not None
    with engine.connect() as conn:
        parts = history_partitions(conn, schema, info.name)
    if parts:
        return _rotate(engine, info, parts, cut)
    return _delete_in_steps(engine, info, cut, batch)


def _rotate(engine: Engine, info: TableInfo, parts: list[Partition], cut: datetime) -> PruneOutcome:
    naive_cut = to_db(cut)
    due = [p.name for p in parts[:-1] if p.bound is not None and p.bound <= naive_cut]
    rows = 0
    with engine.connect() as conn:
        quote = conn.dialect.identifier_preparer.quote_identifier
        for name in due:  # oldest first: MariaDB refuses any other order under INTERVAL
            rows += int(
                conn.execute(
                    sa.text(f"SELECT COUNT(*) FROM {quote(info.name)} PARTITION ({quote(name)})")
                ).scalar_one()
            )
            conn.exec_driver_sql(f"ALTER TABLE {quote(info.name)} DROP PARTITION {quote(name)}")
    return PruneOutcome(info.name, PARTITIONS, cut, rows, len(due), tuple(due))


def _delete_in_steps(engine: Engine, info: TableInfo, cut: datetime, batch: int) -> PruneOutcome:
    assert info.period is not None
    v = info.all_versions()
    end = v.c[info.period.end]
    rows = batches = 0
    quote = engine.dialect.identifier_preparer.quote_identifier
    delete = sa.text(f"DELETE HISTORY FROM {quote(info.name)} BEFORE SYSTEM_TIME :bound")
    stuck: datetime | None = None  # the bound of the last step that deleted nothing
    while True:
        with engine.begin() as conn:  # one short transaction per step
            bound = _next_bound(conn, end, to_db(cut), batch)
            if bound is None:
                break
            if bound == stuck:  # the same bound twice, nothing deleted: it would loop forever
                log.warning(
                    "pruning %s stopped: DELETE HISTORY before %s removes nothing although "
                    "history before it is listed",
                    info.name,
                    bound,
                )
                break
            deleted = int(conn.execute(delete, {"bound": bound}).rowcount)
        rows += deleted
        batches += 1
        stuck = bound if deleted == 0 else None
        if bound >= to_db(cut):
            break
    return PruneOutcome(info.name, DELETE, cut, rows, batches)


def _next_bound(
    conn: Connection, end: sa.ColumnElement[datetime], cut: datetime, batch: int
) -> datetime | None:
    """The next step's exclusive bound: ``batch`` versions into the oldest history, past at
    least one distinct ``row_end``, never past ``cut``; None when nothing is left before it."""
    oldest = conn.execute(sa.select(sa.func.min(end)).where(end < cut)).scalar_one_or_none()
    if oldest is None:
        return None
    step = conn.execute(
        sa.select(end).where(end < cut).order_by(end).offset(batch).limit(1)
    ).scalar_one_or_none()
    if step is None:
        return cut
    if step <= oldest:  # one statement's versions outnumber the batch: take them whole
        step = conn.execute(
            sa.select(sa.func.min(end)).where(end > oldest, end < cut)
        ).scalar_one_or_none()
    return cut if step is None else min(step, cut)
