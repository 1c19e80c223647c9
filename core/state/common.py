"""Pieces every part of the state store shares: clock, IDs, the outbox insert."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from core.state.schema import outbox


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Opaque, unguessable: goes into button values."""
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Notification:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


def lane_of(incident_id: str | None, note: Notification) -> str:
    """The destination a message keeps its order in: one incident's alert and thread, or
    one thread. A message waits only for earlier ones in its own lane."""
    if incident_id is not None:
        return f"incident:{incident_id}"
    payload = note.payload
    if note.kind == "digest":  # one lane per digest message: its updates stay in order
        return digest_lane(str(payload.get("source", "")), str(payload.get("kind", "")))
    return f"thread:{payload.get('channel', '')}:{payload.get('thread_ts') or ''}"[:96]


def digest_lane(source: str, kind: str) -> str:
    """The kind first and the source hashed: a long source (host and schema) cut to fit the
    column would give different kinds one lane, and coalescing one kind's edits would then
    mark another kind's as sent."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:40]
    return f"digest:{kind[:40]}:{digest}"


def enqueue_in(conn: Connection, incident_id: str | None, note: Notification) -> None:
    """Queue a message inside the caller's transaction, so it is sent if and only if the
    change that caused it commits."""
    now = utcnow()
    conn.execute(
        outbox.insert().values(
            incident_id=incident_id,
            kind=note.kind,
            payload=note.payload,
            lane=lane_of(incident_id, note),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
