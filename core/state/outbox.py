"""The Slack outbox: messages queued in the transaction of the change that caused them.

A message is sent if and only if its change committed (``enqueue_in``, in
``common``, writes it inside any aggregate's transaction). Delivery claims
the head of the queue by compare-and-set, so two processes never send the
same message, and nothing overtakes a message waiting for its retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
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

    def claim_next(self, *, stale_after: timedelta = timedelta(seconds=60)) -> OutboxItem | None:
        """The oldest undelivered message, claimed for this caller by compare-and-set.

        Returns None when the head of the queue is not due yet (so order is
        kept: nothing overtakes a message waiting for its retry) or when
        another process claimed it.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            head = conn.execute(
                sa.select(outbox).where(outbox.c.status != "sent").order_by(outbox.c.id).limit(1)
            ).first()
            if head is None or head.next_attempt_at > now:
                return None
            if head.status == "sending" and head.claimed_at > now - stale_after:
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
            head.id, head.incident_id, head.kind, dict(head.payload), claim, head.attempts
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

    def coalesce(self, item: OutboxItem) -> int:
        """Mark later pending items of the same kind for the same incident as sent.

        Follow-ups are rendered from the incident's current state, so one
        message covers every one queued before it; a burst of 20 batches
        gives one note, not 20.
        """
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    outbox.update()
                    .where(
                        outbox.c.incident_id == item.incident_id,
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
                    sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status != "sent")
                ).scalar_one()
            )
