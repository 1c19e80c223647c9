"""Schema change requests (``/vault protect``, ``/vault retention``) and retention settings.

A change request goes through the same two-person rule as a restore plan
(``core.approvals``' ``Votes``): it is created *requested* by the person who
asked, a second approver moves it to *executing* by compare-and-set on its
version, and only that click runs it. Its audit lines are written in the same
transaction (``StateStore.replace_change``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.approvals import PlanState, Votes
from core.state.approvable import (
    compare_and_set,
    request_fields,
    request_values,
    update_with,
)
from core.state.common import utcnow
from core.state.schema import changes, retention
from core.thread import Thread


@dataclass(frozen=True)
class ChangeRecord:
    id: str
    source: str
    kind: str  # protect, retention
    table: str
    state: PlanState
    spec: dict[str, Any]  # what runs: a ProtectPlan's JSON, or the retention asked for
    requester: str | None
    approvals: tuple[str, ...]
    required: int
    version: int
    channel: str | None
    thread_ts: str | None
    ts: str | None
    outcome: dict[str, Any] | None
    created_at: datetime
    expires_at: datetime

    @property
    def votes(self) -> Votes:
        return Votes(self.state, self.requester, self.approvals, self.required, self.expires_at)

    def with_votes(self, v: Votes) -> ChangeRecord:
        return replace(self, state=v.state, requester=v.requester, approvals=v.approvals)

    @property
    def thread(self) -> Thread:
        return Thread(self.channel or "", self.thread_ts or self.ts)


def _values(rec: ChangeRecord) -> dict[str, Any]:
    return {**request_values(rec), "spec": rec.spec, "created_at": rec.created_at}


def _record(row: sa.Row[Any]) -> ChangeRecord:
    m = row._mapping
    return ChangeRecord(**request_fields(m), spec=m["spec"])


def save_change_in(conn: Connection, rec: ChangeRecord) -> None:
    conn.execute(changes.insert().values(**_values(rec)))


def replace_change_in(conn: Connection, old: ChangeRecord, new: ChangeRecord) -> bool:
    """Compare-and-set inside the caller's transaction."""
    values = {**_values(new), "version": old.version + 1}
    return compare_and_set(conn, changes, id=old.id, version=old.version, values=values)


@dataclass(frozen=True, slots=True)
class Retention:
    table: str
    keep_seconds: float
    method: str
    set_by: str
    set_at: datetime
    pruned_at: datetime | None
    pruned_rows: int


def set_retention_in(
    conn: Connection, source: str, table: str, keep_seconds: float, method: str, actor: str
) -> None:
    key = (retention.c.source == source) & (retention.c.table_name == table)
    values = {"keep_seconds": keep_seconds, "method": method, "set_by": actor, "set_at": utcnow()}
    if conn.execute(retention.update().where(key).values(**values)).rowcount == 0:
        conn.execute(
            retention.insert().values(source=source, table_name=table, pruned_rows=0, **values)
        )


def pruned_in(conn: Connection, source: str, table: str, rows: int) -> None:
    key = (retention.c.source == source) & (retention.c.table_name == table)
    conn.execute(
        retention.update()
        .where(key)
        .values(pruned_at=utcnow(), pruned_rows=retention.c.pruned_rows + rows)
    )


class Changes:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, change_id: str) -> ChangeRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(changes).where(changes.c.id == change_id)).first()
            return _record(row) if row else None

    def replace(self, old: ChangeRecord, new: ChangeRecord) -> bool:
        """Compare-and-set with no audit line: the bot's own bookkeeping (the message ts)."""
        with self.engine.begin() as conn:
            return replace_change_in(conn, old, new)

    def update(
        self, change_id: str, change: Callable[[ChangeRecord], ChangeRecord]
    ) -> ChangeRecord | None:
        """Apply ``change`` to the newest record, re-reading after a lost compare-and-set
        (see ``update_with``); the stored record, or None."""
        return update_with(self.get, self.replace, change_id, change)

    def executing(self, *, source: str) -> list[ChangeRecord]:
        """Requests approved and running, or left running by a process that died."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(changes).where(
                    changes.c.source == source, changes.c.state == PlanState.EXECUTING.value
                )
            )
            return [_record(r) for r in rows]

    def retentions(self, *, source: str) -> list[Retention]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(retention)
                .where(retention.c.source == source)
                .order_by(retention.c.table_name)
            )
            return [
                Retention(
                    table=r.table_name,
                    keep_seconds=r.keep_seconds,
                    method=r.method,
                    set_by=r.set_by,
                    set_at=r.set_at,
                    pruned_at=r.pruned_at,
                    pruned_rows=int(r.pruned_rows or 0),
                )
                for r in rows
            ]
