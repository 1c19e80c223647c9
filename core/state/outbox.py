"""The Slack outbox: messages queued in the transaction of the change that caused them.

A message is sent if and only if its change committed (``enqueue_in``, in
``common``, writes it inside any aggregate's transaction). Messages are ordered
per *lane* (one incident's alert and thread, or one thread): delivery claims the
head of a lane by compare-and-set, so two processes never send the same message,
nothing overtakes a message of its own lane waiting for its retry, and one lane's
trouble never delays another's. A message Slack refuses for good (its channel
or root message is gone) becomes a *dead letter*: kept, counted, shown, never
retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.state.common import Notification, enqueue_in, new_id, utcnow
from core.state.schema import outbox


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    incident_id: str | None
    kind: str
    payload: dict[str, Any]
    claim: str
    attempts: int
    lane: str = ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    kind: str
    incident_id: str | None
    error: str
    at: datetime


UNSENT = ("pending", "sending")


def mark_sent_in(conn: Connection, item: OutboxItem) -> None:
    """``item`` delivered, inside the caller's transaction; only its claimant may say so."""
    conn.execute(
        outbox.update()
        .where(outbox.c.id == item.id, outbox.c.claim == item.claim)
        .values(status="sent", sent_at=utcnow())
    )


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enqueue(self, *, incident_id: str | None, notification: Notification) -> None:
        with self.engine.begin() as conn:
            enqueue_in(conn, incident_id, notification)

    def claim_next(
        self, *, stale_after: timedelta = timedelta(seconds=60), skip: Iterable[str] = ()
    ) -> OutboxItem | None:
        """The oldest due message that heads its lane, claimed by compare-and-set.

        A lane's head that waits for its retry (or is being sent by another
        process) holds back its own lane only. ``skip``: lanes the caller will not
        send to now (paced). None when nothing is due.
        """
        now = utcnow()
        earlier = outbox.alias("earlier")
        heads = (
            sa.select(outbox)
            .where(outbox.c.status.in_(UNSENT), outbox.c.next_attempt_at <= now)
            .where(
                sa.or_(
                    outbox.c.status == "pending",
                    outbox.c.claimed_at <= now - stale_after,
                )
            )
            .where(
                ~sa.exists().where(
                    sa.func.coalesce(earlier.c.lane, "") == sa.func.coalesce(outbox.c.lane, ""),
                    earlier.c.status.in_(UNSENT),
                    earlier.c.id < outbox.c.id,
                )
            )
            .order_by(outbox.c.id)
            .limit(8)
        )
        skipped = set(skip)
        with self.engine.begin() as conn:
            head = next((r for r in conn.execute(heads) if (r.lane or "") not in skipped), None)
            if head is None:
                return None
            claim = new_id()
            won = conn.execute(
                outbox.update()
                .where(outbox.c.id == head.id, outbox.c.status == head.status)
                .where(sa.or_(outbox.c.claim.is_(None), outbox.c.claim == head.claim))
                .values(status="sending", claim=claim, claimed_at=now)
            ).rowcount
        if not won:
            return None
        return OutboxItem(
            head.id,
            head.incident_id,
            head.kind,
            dict(head.payload),
            claim,
            head.attempts,
            head.lane or "",
        )

    def mark_sent(self, item: OutboxItem) -> None:
        with self.engine.begin() as conn:
            mark_sent_in(conn, item)

    def mark_failed(self, item: OutboxItem, *, error: str, retry_in: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == item.id, outbox.c.claim == item.claim)
                .values(
                    status="pending",
                    claim=None,
                    attempts=item.attempts + 1,
                    last_error=error[:255],
                    next_attempt_at=utcnow() + timedelta(seconds=retry_in),
                )
            )

    def release(self, item: OutboxItem) -> None:
        """Give ``item`` back untried (the caller paces its channel): no attempt counted."""
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == item.id, outbox.c.claim == item.claim)
                .values(status="pending", claim=None)
            )

    def mark_dead(self, item: OutboxItem, *, error: str) -> None:
        """Slack refused ``item`` for good: keep it, with why, and stop trying."""
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == item.id, outbox.c.claim == item.claim)
                .values(status="dead", last_error=error[:255], sent_at=utcnow())
            )

    def dead_letters(self, limit: int = 20) -> list[DeadLetter]:
        """The newest messages Slack refused for good."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox)
                .where(outbox.c.status == "dead")
                .order_by(outbox.c.id.desc())
                .limit(limit)
            )
            return [
                DeadLetter(r.id, r.kind, r.incident_id, r.last_error or "", r.sent_at) for r in rows
            ]

    def dead_count(self, *, since: timedelta | None = None) -> int:
        """Dead letters, all or those of the last ``since``."""
        query = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "dead")
        if since is not None:
            query = query.where(outbox.c.sent_at >= utcnow() - since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def coalesce(self, item: OutboxItem) -> int:
        """Mark later pending items of the same kind for the same incident as sent.

        Follow-ups are rendered from the incident's current state, so one
        message covers every one queued before it; a burst of 20 batches
        gives one note, not 20.
        """
        return self._coalesce(item, outbox.c.incident_id == item.incident_id)

    def coalesce_lane(self, item: OutboxItem) -> int:
        """Mark later pending items of ``item``'s kind in its lane as sent: a digest is
        rendered from the current state, so one edit covers every change queued before it."""
        return self._coalesce(item, outbox.c.lane == item.lane)

    def _coalesce(self, item: OutboxItem, same: sa.ColumnElement[bool]) -> int:
        """Mark the pending items of ``item``'s kind queued after it where ``same`` holds as
        sent (``coalesced``); how many."""
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    outbox.update()
                    .where(
                        same,
                        outbox.c.kind == item.kind,
                        outbox.c.status == "pending",
                        outbox.c.id > item.id,
                    )
                    .values(status="sent", sent_at=utcnow(), last_error="coalesced")
                ).rowcount
            )

    def pending_count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.status.in_(UNSENT))
                ).scalar_one()
            )
