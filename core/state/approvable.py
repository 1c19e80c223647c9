"""What every two-person request row shares: its columns, and compare-and-set on its version.

A restore plan (``fv_plans``) and a schema change request (``fv_changes``) carry the
same approval bookkeeping (state, requester, approvals, where its message lives), and
a freeze's lifting is guarded the same way. Writing it once keeps the guarantee one
guarantee: a record changes only if it is still at the version the clicker saw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.approvals import PlanState

UPDATE_ATTEMPTS = 10


class Approvable(Protocol):
    """The fields a two-person request record stores in its shared columns."""

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def table(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def state(self) -> PlanState: ...
    @property
    def requester(self) -> str | None: ...
    @property
    def approvals(self) -> tuple[str, ...]: ...
    @property
    def required(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def thread_ts(self) -> str | None: ...
    @property
    def ts(self) -> str | None: ...
    @property
    def outcome(self) -> dict[str, Any] | None: ...
    @property
    def expires_at(self) -> datetime: ...


def request_values(rec: Approvable) -> dict[str, Any]:
    """The shared columns of ``rec`` (not ``created_at``, which only an insert writes)."""
    return {
        "id": rec.id,
        "source": rec.source,
        "table_name": rec.table,
        "kind": rec.kind,
        "state": rec.state.value,
        "requester": rec.requester,
        "approvals": list(rec.approvals),
        "required": rec.required,
        "version": rec.version,
        "channel": rec.channel,
        "thread_ts": rec.thread_ts,
        "ts": rec.ts,
        "outcome": rec.outcome,
        "expires_at": rec.expires_at,
    }


def request_fields(m: sa.RowMapping) -> dict[str, Any]:
    """The shared columns of a row, as keyword arguments for its record."""
    return {
        "id": m["id"],
        "source": m["source"],
        "table": m["table_name"],
        "kind": m["kind"],
        "state": PlanState(m["state"]),
        "requester": m["requester"],
        "approvals": tuple(m["approvals"] or ()),
        "required": m["required"],
        "version": m["version"],
        "channel": m["channel"],
        "thread_ts": m["thread_ts"],
        "ts": m["ts"],
        "outcome": m["outcome"],
        "created_at": m["created_at"],
        "expires_at": m["expires_at"],
    }


def compare_and_set(
    conn: Connection, table: sa.Table, *, id: str, version: int, values: Mapping[str, Any]
) -> bool:
    """Write ``values`` to row ``id`` only if it is still at ``version``; whether it was.

    The caller puts ``version + 1`` in ``values``: two clicks reading the same version
    cannot both win, since the loser's ``WHERE`` no longer matches.
    """
    won = conn.execute(
        table.update().where(table.c.id == id, table.c.version == version).values(**values)
    ).rowcount
    return bool(won)


R = TypeVar("R", bound=Approvable)


def update_with(
    get: Callable[[str], R | None],
    put: Callable[[R, R], bool],
    record_id: str,
    change: Callable[[R], R],
) -> R | None:
    """Apply ``change`` to the newest record with ``put``, re-reading after a lost
    compare-and-set; the stored record, or None if it is gone or stayed contended.

    For the bot's own bookkeeping (where a message was posted): another writer moving
    the version on must not make it drop its write.
    """
    for _ in range(UPDATE_ATTEMPTS):
        rec = get(record_id)
        if rec is None:
            return None
        new = change(rec)
        if put(rec, new):
            return replace(new, version=rec.version + 1)  # type: ignore[type-var]
    return None
