"""What the watcher has read: its watermark per source and every event it has seen.

Events are unique per (source, table, point), which is what makes alerting
exactly-once: ``StateStore.record_event`` writes an event with its incident
and alert in one transaction, and a second process recording the same event
fails on that key and changes nothing. The baseline (past events remembered
without alerting) and the judge's history are read from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.state.common import utcnow
from core.state.incidents import EventRecord
from core.state.schema import events, watermarks


def _event_values(source: str, rec: EventRecord, baseline_only: bool) -> dict[str, Any]:
    return {
        "source": source,
        "table_name": rec.table,
        "point": rec.point,
        "instant": rec.instant,
        "transaction_id": rec.transaction_id,
        "deleted": rec.deleted,
        "updated": rec.updated,
        "inserted": rec.inserted,
        "score": rec.score,
        "baseline_only": baseline_only,
    }


def insert_in(
    conn: Connection, source: str, records: Iterable[EventRecord], incident_id: str | None
) -> None:
    """Alerting events (not baseline), inside the caller's transaction; raises
    ``IntegrityError`` if one was recorded already."""
    for rec in records:
        values = _event_values(source, rec, False)
        conn.execute(events.insert().values(**values, incident_id=incident_id))


def adopt_in(conn: Connection, event_ids: Sequence[int], incident_id: str) -> None:
    """Earlier events in no incident join ``incident_id`` (a burst seen as one)."""
    conn.execute(
        events.update()
        .where(events.c.id.in_(event_ids), events.c.incident_id.is_(None))
        .values(incident_id=incident_id)
    )


def _no_watermark(conn: Connection, source: str) -> bool:
    found = conn.execute(sa.select(watermarks.c.source).where(watermarks.c.source == source))
    return found.first() is None


class Events:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def watermark(self, *, source: str) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(watermarks.c.instant).where(watermarks.c.source == source)
            ).scalar_one_or_none()

    def advance(self, *, source: str, instant: datetime) -> None:
        """Move the watermark forward only; a slower process can never move it back."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                watermarks.update()
                .where(watermarks.c.source == source, watermarks.c.instant < instant)
                .values(instant=instant, updated_at=utcnow())
            ).rowcount
            if not moved and _no_watermark(conn, source):
                try:
                    with conn.begin_nested():
                        conn.execute(
                            watermarks.insert().values(
                                source=source, instant=instant, updated_at=utcnow()
                            )
                        )
                except sa.exc.IntegrityError:
                    pass  # another process created it first

    def last_read(self, *, source: str) -> datetime | None:
        """When the watcher last moved the watermark (a sign of life, not a position)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(watermarks.c.updated_at).where(watermarks.c.source == source)
            ).scalar_one_or_none()

    def seen(self, *, source: str, since: datetime) -> set[tuple[str, str]]:
        """(table, point) of every event recorded after ``since``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.table_name, events.c.point).where(
                    events.c.source == source, events.c.instant > since
                )
            )
            return {(t, p) for t, p in rows}

    def record_baseline(self, *, source: str, records: Iterable[EventRecord]) -> int:
        """Remember past events for the baseline without alerting on them."""
        added = 0
        with self.engine.begin() as conn:
            for rec in records:
                try:
                    with conn.begin_nested():
                        conn.execute(events.insert().values(**_event_values(source, rec, True)))
                        added += 1
                except sa.exc.IntegrityError:
                    continue
        return added

    def recent_sizes(
        self, *, source: str, table: str, since: datetime, limit: int = 200
    ) -> list[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.deleted + events.c.updated)
                .where(
                    events.c.source == source,
                    events.c.table_name == table,
                    events.c.instant > since,
                )
                .order_by(events.c.instant.desc())
                .limit(limit)
            )
            return [int(r[0]) for r in rows]

    def unassigned(
        self, *, source: str, table: str, since: datetime
    ) -> list[tuple[int, int, int, datetime]]:
        """(id, deleted, updated, instant) of recent events on ``table`` in no incident."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.id, events.c.deleted, events.c.updated, events.c.instant).where(
                    events.c.source == source,
                    events.c.table_name == table,
                    events.c.instant >= since,
                    events.c.incident_id.is_(None),
                    events.c.baseline_only.is_(False),
                )
            )
            return [(int(i), int(d), int(u), t) for i, d, u, t in rows]
