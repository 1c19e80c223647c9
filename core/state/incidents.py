"""Incidents and the events that make them up, as the watcher recorded them.

An incident is opened together with its first events, its audit line and
its alert (``StateStore.record_event``), and dismissed together with its
audit line and its alert's update (``StateStore.dismiss_incident``); the
pieces those units of work write are the ``*_in`` functions here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.state.common import Notification, enqueue_in, utcnow
from core.state.schema import events, incidents
from core.summary import IncidentSummary


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESTORE_PENDING = "restore pending"
    RESTORED = "restored"
    DISMISSED = "dismissed"


ACTIVE = (IncidentStatus.OPEN, IncidentStatus.RESTORE_PENDING)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event's effect on one table, as the watcher saw it."""

    table: str
    point: str
    instant: datetime
    transaction_id: int | None
    deleted: int
    updated: int
    inserted: int = 0
    score: int | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    source: str
    table: str
    status: IncidentStatus
    first_instant: datetime
    last_instant: datetime
    summary: IncidentSummary
    channel: str | None
    root_ts: str | None


def _incident(row: sa.Row[Any]) -> Incident:
    m = row._mapping
    return Incident(
        id=m["id"],
        source=m["source"],
        table=m["table_name"],
        status=IncidentStatus(m["status"]),
        first_instant=m["first_instant"],
        last_instant=m["last_instant"],
        summary=IncidentSummary.from_json(dict(m["summary"])),
        channel=m["channel"],
        root_ts=m["root_ts"],
    )


def _incident_values(inc: Incident) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": inc.id,
        "source": inc.source,
        "table_name": inc.table,
        "status": inc.status.value,
        "first_instant": inc.first_instant,
        "last_instant": inc.last_instant,
        "summary": inc.summary.to_json(),
        "channel": inc.channel,
        "root_ts": inc.root_ts,
        "created_at": now,
        "updated_at": now,
    }


def create_in(conn: Connection, incident: Incident) -> None:
    conn.execute(incidents.insert().values(**_incident_values(incident)))


def extend_in(conn: Connection, incident_id: str, summary: IncidentSummary, last: datetime) -> None:
    """A later event joined the incident: its summary and last instant move on."""
    conn.execute(
        incidents.update()
        .where(incidents.c.id == incident_id)
        .values(summary=summary.to_json(), last_instant=last, updated_at=utcnow())
    )


def dismiss_in(conn: Connection, incident_id: str) -> bool:
    """Open -> dismissed by compare-and-set; False if it was no longer open."""
    moved = conn.execute(
        incidents.update()
        .where(incidents.c.id == incident_id, incidents.c.status == IncidentStatus.OPEN.value)
        .values(status=IncidentStatus.DISMISSED.value, updated_at=utcnow())
    ).rowcount
    return bool(moved)


def set_root_in(conn: Connection, incident_id: str | None, channel: str | None, ts: str) -> None:
    """Remember where the incident's alert was posted; the first post wins."""
    conn.execute(
        incidents.update()
        .where(incidents.c.id == incident_id, incidents.c.root_ts.is_(None))
        .values(channel=channel, root_ts=ts, updated_at=utcnow())
    )


class Incidents:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, incident_id: str) -> Incident | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).first()
            return _incident(row) if row else None

    def active(self, *, source: str, table: str, since: datetime) -> Incident | None:
        """An open incident on ``table`` whose last event is at or after ``since``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(incidents)
                .where(
                    incidents.c.source == source,
                    incidents.c.table_name == table,
                    incidents.c.status.in_([s.value for s in ACTIVE]),
                    incidents.c.last_instant >= since,
                )
                .order_by(incidents.c.last_instant.desc())
                .limit(1)
            ).first()
            return _incident(row) if row else None

    def set_status(self, incident_id: str, status: IncidentStatus) -> None:
        """Change an incident's state and queue the update of its alert."""
        with self.engine.begin() as conn:
            set_status_in(conn, incident_id, status)

    def events(self, incident_id: str) -> list[EventRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(events)
                .where(events.c.incident_id == incident_id)
                .order_by(events.c.instant, events.c.id)
            )
            return [
                EventRecord(
                    r.table_name,
                    r.point,
                    r.instant,
                    r.transaction_id,
                    r.deleted,
                    r.updated,
                    r.inserted,
                    r.score,
                )
                for r in rows
            ]

    def open(self, *, source: str) -> list[Incident]:
        """Incidents still open or awaiting their restore, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(incidents)
                .where(incidents.c.source == source)
                .where(incidents.c.status.in_([s.value for s in ACTIVE]))
                .order_by(incidents.c.first_instant)
            )
            return [_incident(r) for r in rows]

    def by_prefix(self, prefix: str) -> Incident | None:
        """The incident whose ID starts with ``prefix`` (people quote the first 8 characters)."""
        if len(prefix) < 6 or not prefix.isalnum():
            return None
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(incidents).where(incidents.c.id.startswith(prefix)).limit(2)
            ).all()
            return _incident(rows[0]) if len(rows) == 1 else None

    def shown_since(self, *, source: str, since: datetime) -> list[Incident]:
        """Open incidents, and any whose alert was re-rendered since ``since``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(incidents).where(
                    incidents.c.source == source,
                    sa.or_(
                        incidents.c.status.in_([s.value for s in ACTIVE]),
                        incidents.c.updated_at >= since,
                    ),
                )
            )
            return [_incident(r) for r in rows]

    def latest(self, *, source: str) -> Incident | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(incidents)
                .where(incidents.c.source == source)
                .order_by(incidents.c.created_at.desc())
                .limit(1)
            ).first()
            return _incident(row) if row else None


def set_status_in(conn: Connection, incident_id: str, status: IncidentStatus) -> None:
    """``set_status`` inside the caller's transaction (a restore's outcome and its incident's
    new state commit together)."""
    conn.execute(
        incidents.update()
        .where(incidents.c.id == incident_id)
        .values(status=status.value, updated_at=utcnow())
    )
    enqueue_in(conn, incident_id, Notification("root_update"))
