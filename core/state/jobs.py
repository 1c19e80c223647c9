"""Timed jobs (reminders, expiry notices), persisted so a restart neither drops nor repeats
them.

APScheduler's own job stores are not safe to share between replicas (each
scheduler would run every job), so a job here is a row: whoever finishes it
flips it from *pending* to *done* by compare-and-set in the same transaction
that queues its message, and only that caller's message is ever sent. A job whose
finishing changes more than the job (a reminder's audit line, a plan's expiry) is
finished by a unit of work on ``StateStore`` through ``finish_in``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.state.common import Notification, enqueue_in, utcnow
from core.state.schema import jobs


class JobKind(StrEnum):
    REMIND = "remind"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: JobKind
    plan_id: str
    due_at: datetime


def finish_in(conn: Connection, job: Job) -> bool:
    """Pending -> done by compare-and-set inside the caller's transaction; False if another
    process finished it first."""
    won = conn.execute(
        jobs.update()
        .where(jobs.c.id == job.id, jobs.c.status == "pending")
        .values(status="done", done_at=utcnow())
    ).rowcount
    return bool(won)


class Jobs:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def schedule(self, kind: JobKind, plan_id: str, due_at: datetime) -> None:
        """Idempotent: a plan has at most one job of each kind."""
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(
                        jobs.insert().values(
                            kind=kind.value, plan_id=plan_id, due_at=due_at, status="pending"
                        )
                    )
            except sa.exc.IntegrityError:
                pass

    def due(self, *, now: datetime | None = None, limit: int = 20) -> list[Job]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id, jobs.c.kind, jobs.c.plan_id, jobs.c.due_at)
                .where(jobs.c.status == "pending", jobs.c.due_at <= (now or utcnow()))
                .order_by(jobs.c.due_at, jobs.c.id)
                .limit(limit)
            )
            return [Job(r.id, JobKind(r.kind), r.plan_id, r.due_at) for r in rows]

    def finish(self, job: Job, *, notify: Notification | None = None) -> bool:
        """Mark ``job`` done and queue ``notify``, atomically; False if another process
        finished it first (then nothing is queued)."""
        with self.engine.begin() as conn:
            if not finish_in(conn, job):
                return False
            if notify is not None:
                enqueue_in(conn, None, notify)
        return True

    def pending_for(self, plan_id: str) -> list[JobKind]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs.c.kind).where(jobs.c.plan_id == plan_id, jobs.c.status == "pending")
            )
            return [JobKind(r[0]) for r in rows]
