"""Freeze records: who froze what, and the two-person state of lifting it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.state.approvable import compare_and_set
from core.state.common import utcnow
from core.state.schema import freezes


class FreezeState(StrEnum):
    FROZEN = "frozen"
    UNFREEZING = "unfreezing"  # lifting requested, waiting for a second person
    LIFTED = "lifted"


SERVER = "server"


@dataclass(frozen=True, slots=True)
class Freeze:
    id: str
    source: str
    scope: str  # "table" or "server"
    table: str | None
    state: FreezeState
    frozen_by: str
    frozen_at: datetime
    requester: str | None = None
    approvals: tuple[str, ...] = ()
    lifted_at: datetime | None = None
    incident_id: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    version: int = 0

    @property
    def key(self) -> str:
        return f"{self.source}|{self.scope}|{self.table or ''}"

    @property
    def target(self) -> str:
        """How people name it: ``airports`` or ``the whole server``."""
        return self.table if self.table else "the whole server"

    def covers(self, table: str) -> bool:
        return self.scope == SERVER or self.table == table


def _values(f: Freeze) -> dict[str, Any]:
    return {
        "id": f.id,
        "source": f.source,
        "scope": f.scope,
        "table_name": f.table,
        "active_key": None if f.state is FreezeState.LIFTED else f.key,
        "state": f.state.value,
        "frozen_by": f.frozen_by,
        "frozen_at": f.frozen_at,
        "requester": f.requester,
        "approvals": list(f.approvals),
        "lifted_at": f.lifted_at,
        "incident_id": f.incident_id,
        "channel": f.channel,
        "thread_ts": f.thread_ts,
        "version": f.version,
    }


def _freeze(row: sa.Row[Any]) -> Freeze:
    m = row._mapping
    return Freeze(
        id=m["id"],
        source=m["source"],
        scope=m["scope"],
        table=m["table_name"],
        state=FreezeState(m["state"]),
        frozen_by=m["frozen_by"],
        frozen_at=m["frozen_at"],
        requester=m["requester"],
        approvals=tuple(m["approvals"] or ()),
        lifted_at=m["lifted_at"],
        incident_id=m["incident_id"],
        channel=m["channel"],
        thread_ts=m["thread_ts"],
        version=m["version"],
    )


class Freezes:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, f: Freeze) -> Freeze | None:
        """Store a new freeze; None if that target is already frozen (the existing one wins)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(freezes.insert().values(**_values(f)))
        except sa.exc.IntegrityError:
            return None
        return f

    def forget(self, f: Freeze) -> None:
        """Drop a freeze whose DDL failed, so the target is not shown as frozen."""
        with self.engine.begin() as conn:
            conn.execute(freezes.delete().where(freezes.c.id == f.id))

    def get(self, freeze_id: str) -> Freeze | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(freezes).where(freezes.c.id == freeze_id)).first()
            return _freeze(row) if row else None

    def active(self, *, source: str) -> list[Freeze]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(freezes)
                .where(freezes.c.source == source, freezes.c.state != FreezeState.LIFTED.value)
                .order_by(freezes.c.frozen_at)
            )
            return [_freeze(r) for r in rows]

    def covering(self, *, source: str, table: str) -> Freeze | None:
        return next((f for f in self.active(source=source) if f.covers(table)), None)

    def find(self, *, source: str, table: str | None) -> Freeze | None:
        """The active freeze of exactly this target (``None`` table: the server)."""
        scope = SERVER if table is None else "table"
        return next(
            (f for f in self.active(source=source) if f.scope == scope and f.table == table), None
        )

    def replace(self, old: Freeze, new: Freeze) -> bool:
        """Compare-and-set on the version, as plans do."""
        new = replace(new, version=old.version + 1)
        if new.state is FreezeState.LIFTED and new.lifted_at is None:
            new = replace(new, lifted_at=utcnow())
        with self.engine.begin() as conn:
            return compare_and_set(
                conn, freezes, id=old.id, version=old.version, values=_values(new)
            )
