"""The state store's operations, keyword-only, each one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.approvals import PlanRecord, PlanState
from core.history import ChangeEvent, event_from_json, event_to_json
from core.plan import RestorePlan
from core.state.common import Notification, enqueue_in, new_id, utcnow
from core.state.conditions import Conditions
from core.state.freezes import Freezes
from core.state.jobs import Jobs
from core.state.schema import (
    audit,
    events,
    findings,
    incidents,
    leases,
    metadata,
    outbox,
    plans,
    unwatched,
    views,
    watermarks,
)
from core.summary import IncidentSummary


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESTORE_PENDING = "restore pending"
    RESTORED = "restored"
    DISMISSED = "dismissed"


ACTIVE = (IncidentStatus.OPEN, IncidentStatus.RESTORE_PENDING)


UPDATE_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class Note:
    """An audit line written in the same transaction as the plan change it explains."""

    actor: str
    action: str
    detail: str


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


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """What ``/vault find`` named: the restore point and the damage a preview undoes."""

    id: str
    source: str
    table: str
    restore_point: datetime
    damage: tuple[ChangeEvent, ...]
    incident_id: str | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    incident_id: str | None
    kind: str
    payload: dict[str, Any]
    claim: str
    attempts: int


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


class StateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.jobs = Jobs(engine)
        self.freezes = Freezes(engine)
        self.conditions = Conditions(engine)

    @classmethod
    def from_url(cls, url: str) -> StateStore:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 30})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            sa.event.listen(engine, "begin", _sqlite_begin)
        else:
            from core.db import make_engine

            engine = make_engine(url)
        return cls(engine)

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ watermark
    def watermark(self, *, source: str) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(watermarks.c.instant).where(watermarks.c.source == source)
            ).scalar_one_or_none()

    def advance_watermark(self, *, source: str, instant: datetime) -> None:
        """Move forward only; a slower process can never move it back."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                watermarks.update()
                .where(watermarks.c.source == source, watermarks.c.instant < instant)
                .values(instant=instant, updated_at=utcnow())
            ).rowcount
            if not moved and self._no_watermark(conn, source):
                try:
                    with conn.begin_nested():
                        conn.execute(
                            watermarks.insert().values(
                                source=source, instant=instant, updated_at=utcnow()
                            )
                        )
                except sa.exc.IntegrityError:
                    pass  # another process created it first

    @staticmethod
    def _no_watermark(conn: Connection, source: str) -> bool:
        found = conn.execute(sa.select(watermarks.c.source).where(watermarks.c.source == source))
        return found.first() is None

    # ------------------------------------------------------------------ events
    def seen_points(self, *, source: str, since: datetime) -> set[tuple[str, str]]:
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

    def unassigned_since(
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

    def active_incident(self, *, source: str, table: str, since: datetime) -> Incident | None:
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

    def record_event(
        self,
        *,
        source: str,
        records: Sequence[EventRecord],
        open_incident: Incident | None = None,
        attach_to: str | None = None,
        adopt: Sequence[int] = (),
        summary: IncidentSummary | None = None,
        notifications: Sequence[Notification] = (),
    ) -> bool:
        """Store an event's records and its consequences atomically.

        Returns False, changing nothing, when another process already
        recorded the event: the unique (source, table, point) decides.
        """
        try:
            with self.engine.begin() as conn:
                incident_id = attach_to
                if open_incident is not None:
                    conn.execute(incidents.insert().values(**_incident_values(open_incident)))
                    incident_id = open_incident.id
                    audit_in(
                        conn,
                        incident_id=incident_id,
                        actor="flightvault",
                        action="detected",
                        detail=f"{open_incident.table}: damage committed at "
                        f"{open_incident.first_instant.isoformat()}",
                    )
                for rec in records:
                    values = _event_values(source, rec, False)
                    conn.execute(events.insert().values(**values, incident_id=incident_id))
                if incident_id and adopt:
                    conn.execute(
                        events.update()
                        .where(events.c.id.in_(adopt), events.c.incident_id.is_(None))
                        .values(incident_id=incident_id)
                    )
                if attach_to and summary is not None:
                    last = max(r.instant for r in records)
                    conn.execute(
                        incidents.update()
                        .where(incidents.c.id == attach_to)
                        .values(summary=summary.to_json(), last_instant=last, updated_at=utcnow())
                    )
                if incident_id is not None:
                    for note in notifications:
                        self._enqueue(conn, incident_id, note)
            return True
        except sa.exc.IntegrityError:
            return False

    # ------------------------------------------------------------------ incidents
    def incident(self, incident_id: str) -> Incident | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).first()
            return _incident(row) if row else None

    def set_incident_status(self, incident_id: str, status: IncidentStatus) -> None:
        """Change an incident's state and queue the update of its alert."""
        with self.engine.begin() as conn:
            conn.execute(
                incidents.update()
                .where(incidents.c.id == incident_id)
                .values(status=status.value, updated_at=utcnow())
            )
            self._enqueue(conn, incident_id, Notification("root_update"))

    def dismiss_incident(self, incident_id: str, *, actor: str, reason: str) -> bool:
        """Open -> dismissed, its audit line and its alert's update in one transaction;
        False when the incident was no longer open (someone acted first)."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                incidents.update()
                .where(
                    incidents.c.id == incident_id,
                    incidents.c.status == IncidentStatus.OPEN.value,
                )
                .values(status=IncidentStatus.DISMISSED.value, updated_at=utcnow())
            ).rowcount
            if not moved:
                return False
            self._enqueue(conn, incident_id, Notification("root_update"))
            audit_in(conn, actor=actor, action="dismiss", incident_id=incident_id, detail=reason)
        return True

    def incident_events(self, incident_id: str) -> list[EventRecord]:
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

    def enqueue(self, *, incident_id: str | None, notification: Notification) -> None:
        with self.engine.begin() as conn:
            self._enqueue(conn, incident_id, notification)

    _enqueue = staticmethod(enqueue_in)

    # ------------------------------------------------------------------ outbox
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

    def mark_sent(
        self, item: OutboxItem, *, channel: str | None = None, root_ts: str | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == item.id, outbox.c.claim == item.claim)
                .values(status="sent", sent_at=utcnow())
            )
            if root_ts is not None:
                conn.execute(
                    incidents.update()
                    .where(incidents.c.id == item.incident_id, incidents.c.root_ts.is_(None))
                    .values(channel=channel, root_ts=root_ts, updated_at=utcnow())
                )

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

    # ------------------------------------------------------------------ time-travel views
    def save_view(self, *, source: str, table: str, instant: datetime) -> str:
        """Remember what a time-travel message shows; its buttons carry only this ID."""
        view_id = new_id()
        with self.engine.begin() as conn:
            conn.execute(
                views.insert().values(
                    id=view_id,
                    source=source,
                    table_name=table,
                    instant=instant,
                    created_at=utcnow(),
                )
            )
        return view_id

    def view(self, view_id: str) -> tuple[str, datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(views.c.table_name, views.c.instant).where(views.c.id == view_id)
            ).first()
            return (row[0], row[1]) if row else None

    # ------------------------------------------------------------------ operations
    def open_incidents(self, *, source: str) -> list[Incident]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(incidents)
                .where(incidents.c.source == source)
                .where(incidents.c.status.in_([s.value for s in ACTIVE]))
                .order_by(incidents.c.first_instant)
            )
            return [_incident(r) for r in rows]

    def incident_by_prefix(self, prefix: str) -> Incident | None:
        """The incident whose ID starts with ``prefix`` (people quote the first 8 characters)."""
        if len(prefix) < 6 or not prefix.isalnum():
            return None
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(incidents).where(incidents.c.id.startswith(prefix)).limit(2)
            ).all()
            return _incident(rows[0]) if len(rows) == 1 else None

    def incidents_shown_since(self, *, source: str, since: datetime) -> list[Incident]:
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

    def latest_incident(self, *, source: str) -> Incident | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(incidents)
                .where(incidents.c.source == source)
                .order_by(incidents.c.created_at.desc())
                .limit(1)
            ).first()
            return _incident(row) if row else None

    def incident_plans(self, incident_id: str) -> list[PlanRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(plans)
                .where(plans.c.incident_id == incident_id)
                .order_by(plans.c.created_at)
            )
            return [_plan_record(r) for r in rows]

    def undos_of(self, plan_id: str) -> list[PlanRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(plans).where(plans.c.undo_of == plan_id))
            return [_plan_record(r) for r in rows]

    def pending_plans(self, *, source: str) -> list[PlanRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(plans)
                .where(plans.c.source == source)
                .where(plans.c.state.in_(["previewed", "requested"]))
                .where(plans.c.expires_at > utcnow())
            )
            return [_plan_record(r) for r in rows]

    def executing_plans(self, *, source: str) -> list[PlanRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(plans).where(plans.c.source == source, plans.c.state == "executing")
            )
            return [_plan_record(r) for r in rows]

    def last_read(self, *, source: str) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(watermarks.c.updated_at).where(watermarks.c.source == source)
            ).scalar_one_or_none()

    def set_watched(self, *, source: str, table: str, watched: bool, actor: str) -> bool:
        """Watch or stop watching ``table``, with its audit line in the same transaction;
        False (and no audit line) if it already was as asked."""
        with self.engine.begin() as conn:
            changed = self._set_watched(conn, source, table, watched, actor)
            if changed:
                verb = "watch" if watched else "unwatch"
                audit_in(conn, actor=actor, action=verb, detail=f"table {table}")
        return changed

    @staticmethod
    def _set_watched(conn: Connection, source: str, table: str, watched: bool, actor: str) -> bool:
        if watched:
            return bool(
                conn.execute(
                    unwatched.delete().where(
                        unwatched.c.source == source, unwatched.c.table_name == table
                    )
                ).rowcount
            )
        try:
            with conn.begin_nested():
                conn.execute(
                    unwatched.insert().values(
                        source=source, table_name=table, actor=actor, at=utcnow()
                    )
                )
            return True
        except sa.exc.IntegrityError:
            return False

    def unwatched_tables(self, *, source: str) -> set[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(unwatched.c.table_name).where(unwatched.c.source == source)
            )
            return {r[0] for r in rows}

    # ------------------------------------------------------------------ findings
    def save_finding(
        self,
        *,
        source: str,
        table: str,
        restore_point: datetime,
        damage: Sequence[ChangeEvent],
        incident_id: str | None,
        actor: str = "flightvault",
    ) -> str:
        """Keep what the finder found, so *Preview restore* plans exactly that damage; the
        finding and its audit line commit together."""
        finding_id = new_id()
        with self.engine.begin() as conn:
            conn.execute(
                findings.insert().values(
                    id=finding_id,
                    source=source,
                    table_name=table,
                    restore_point=restore_point,
                    damage=[event_to_json(e) for e in damage],
                    incident_id=incident_id,
                    created_at=utcnow(),
                )
            )
            if incident_id is not None:
                audit_in(
                    conn,
                    incident_id=incident_id,
                    actor=actor,
                    action="find",
                    detail=f"restore point {restore_point.isoformat()}",
                )
        return finding_id

    def finding(self, finding_id: str) -> FindingRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(findings).where(findings.c.id == finding_id)).first()
        if row is None:
            return None
        return FindingRecord(
            id=row.id,
            source=row.source,
            table=row.table_name,
            restore_point=row.restore_point,
            damage=tuple(event_from_json(e) for e in row.damage),
            incident_id=row.incident_id,
        )

    # ------------------------------------------------------------------ plans
    def save_plan(self, rec: PlanRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(plans.insert().values(**_plan_values(rec), created_at=rec.created_at))

    def plan(self, plan_id: str) -> PlanRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(plans).where(plans.c.id == plan_id)).first()
            return _plan_record(row) if row else None

    def replace_plan(self, old: PlanRecord, new: PlanRecord, *notes: Note) -> bool:
        """Compare-and-set: store ``new`` only if the record is still at ``old.version``;
        ``notes`` are audited in the same transaction, so no state is seen without its line."""
        with self.engine.begin() as conn:
            return replace_plan_in(conn, old, new, *notes)

    def update_plan(
        self, plan_id: str, change: Callable[[PlanRecord], PlanRecord], *notes: Note
    ) -> PlanRecord | None:
        """Apply ``change`` to the newest record, re-reading after a lost compare-and-set.

        For the bot's own bookkeeping (the preview's message, a restore's outcome): another
        writer moving the version on must not make it drop its write. Returns the stored
        record, or None if the plan is gone or stayed contended.
        """
        for _ in range(UPDATE_ATTEMPTS):
            rec = self.plan(plan_id)
            if rec is None:
                return None
            new = change(rec)
            if self.replace_plan(rec, new, *notes):
                return replace(new, version=rec.version + 1)
        return None

    def record_audit(
        self,
        *,
        actor: str,
        action: str,
        detail: str,
        plan: PlanRecord | None = None,
        incident_id: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            audit_in(
                conn, actor=actor, action=action, detail=detail, plan=plan, incident_id=incident_id
            )

    def audit_trail(
        self, *, incident_id: str | None = None, limit: int | None = 40
    ) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            stmt = sa.select(audit).order_by(audit.c.at.desc(), audit.c.id.desc()).limit(limit)
            if incident_id is not None:
                stmt = stmt.where(audit.c.incident_id == incident_id)
            return [dict(r._mapping) for r in conn.execute(stmt)][::-1]

    # ------------------------------------------------------------------ leases
    def try_lease(self, *, name: str, holder: str, ttl: float) -> bool:
        """Take or renew a lease; True if ``holder`` holds it until now + ttl."""
        now = utcnow()
        until = now + timedelta(seconds=ttl)
        with self.engine.begin() as conn:
            won = conn.execute(
                leases.update()
                .where(leases.c.name == name)
                .where(sa.or_(leases.c.holder == holder, leases.c.expires_at < now))
                .values(holder=holder, expires_at=until)
            ).rowcount
            if won:
                return True
            try:
                with conn.begin_nested():
                    conn.execute(leases.insert().values(name=name, holder=holder, expires_at=until))
                return True
            except sa.exc.IntegrityError:
                return False

    def release_lease(self, *, name: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))


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


def replace_plan_in(conn: Connection, old: PlanRecord, new: PlanRecord, *notes: Note) -> bool:
    """``replace_plan`` inside the caller's transaction."""
    values = _plan_values(new)
    values["version"] = old.version + 1
    won = conn.execute(
        plans.update().where(plans.c.id == old.id, plans.c.version == old.version).values(**values)
    ).rowcount
    for note in notes if won else ():
        audit_in(conn, actor=note.actor, action=note.action, detail=note.detail, plan=new)
    return bool(won)


def audit_in(
    conn: Connection,
    *,
    actor: str,
    action: str,
    detail: str,
    plan: PlanRecord | None = None,
    incident_id: str | None = None,
) -> None:
    """One line of the audit trail, inside the caller's transaction."""
    conn.execute(
        audit.insert().values(
            plan_id=plan.id if plan else None,
            incident_id=(plan.incident_id if plan else None) or incident_id,
            actor=actor,
            action=action,
            detail=detail[:500],
            fingerprint=plan.plan.fingerprint if plan else None,
            at=utcnow(),
        )
    )


def _plan_values(rec: PlanRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "source": rec.source,
        "incident_id": rec.incident_id,
        "table_name": rec.table,
        "kind": rec.kind,
        "state": rec.state.value,
        "plan": rec.plan.to_json(),
        "fingerprint": rec.plan.fingerprint,
        "requester": rec.requester,
        "approvals": list(rec.approvals),
        "required": rec.required,
        "version": rec.version,
        "channel": rec.channel,
        "thread_ts": rec.thread_ts,
        "ts": rec.ts,
        "outcome": rec.outcome,
        "undo_of": rec.undo_of,
        "expires_at": rec.expires_at,
    }


def _plan_record(row: sa.Row[Any]) -> PlanRecord:
    m = row._mapping
    return PlanRecord(
        id=m["id"],
        source=m["source"],
        incident_id=m["incident_id"],
        table=m["table_name"],
        kind=m["kind"],
        state=PlanState(m["state"]),
        plan=RestorePlan.from_json(m["plan"]),
        requester=m["requester"],
        approvals=tuple(m["approvals"]),
        required=m["required"],
        version=m["version"],
        channel=m["channel"],
        thread_ts=m["thread_ts"],
        ts=m["ts"],
        outcome=m["outcome"],
        undo_of=m["undo_of"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy's pysqlite recipe: let SQLAlchemy, not the driver, emit BEGIN."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Take the write lock up front so compare-and-set never deadlocks on upgrade."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")
