"""The state store's composition root, and the changes that span aggregates.

Each table group is an aggregate with its own module (``store.events``,
``store.incidents``, ``store.outbox``, ``store.plans``, ``store.audit``,
``store.leases``, ``store.watched``, ``store.jobs``, ``store.freezes``,
``store.conditions``, ``store.digests``); each of their methods is one transaction. A change
that must touch several aggregates at once (an event with its incident and
alert, a plan change with its audit line, a job finished with what it does)
is a named unit of work here, one transaction built from the aggregates'
``*_in`` pieces, so no caller ever assembles a transaction itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.approvals import PlanRecord
from core.history import ChangeEvent
from core.state import events as ev
from core.state import incidents as inc
from core.state.approvable import update_with
from core.state.audit import Audit, Note, audit_in, notes_in
from core.state.changes import (
    ChangeRecord,
    Changes,
    pruned_in,
    replace_change_in,
    save_change_in,
    set_retention_in,
)
from core.state.common import Notification, enqueue_in
from core.state.conditions import Conditions
from core.state.digests import Digests
from core.state.events import Events
from core.state.freezes import Freezes
from core.state.incidents import EventRecord, Incident, Incidents
from core.state.jobs import Job, Jobs, finish_in
from core.state.leases import Leases
from core.state.outbox import Outbox, OutboxItem, mark_sent_in
from core.state.plans import Plans, replace_plan_in, save_finding_in
from core.state.schema import metadata
from core.state.watched import Watched, set_watched_in
from core.summary import IncidentSummary

EXPIRED = Note("flightvault", "expired", "plan expired")
AlsoInTx = Callable[[Connection, PlanRecord], None]  # more writes in a plan change's transaction


class StateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.events = Events(engine)
        self.incidents = Incidents(engine)
        self.outbox = Outbox(engine)
        self.plans = Plans(engine)
        self.audit = Audit(engine)
        self.leases = Leases(engine)
        self.watched = Watched(engine)
        self.jobs = Jobs(engine)
        self.freezes = Freezes(engine)
        self.conditions = Conditions(engine)
        self.changes = Changes(engine)
        self.digests = Digests(engine)

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
        """Create what is missing, and add columns newer versions introduced."""
        metadata.create_all(self.engine)
        columns = {c["name"] for c in sa.inspect(self.engine).get_columns("fv_outbox")}
        if "lane" not in columns:  # before per-destination ordering: one lane for old rows
            with self.engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE fv_outbox ADD COLUMN lane VARCHAR(96)"))
        columns = {c["name"] for c in sa.inspect(self.engine).get_columns("fv_digests")}
        if "listed" not in columns:  # before digests told who joined: unknown, no reply
            with self.engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE fv_digests ADD COLUMN listed JSON"))

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ events and incidents
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
                    _open_incident_in(conn, open_incident)
                    incident_id = open_incident.id
                ev.insert_in(conn, source, records, incident_id)
                if incident_id and adopt:
                    ev.adopt_in(conn, adopt, incident_id)
                if attach_to and summary is not None:
                    inc.extend_in(conn, attach_to, summary, max(r.instant for r in records))
                if incident_id is not None:
                    for note in notifications:
                        enqueue_in(conn, incident_id, note)
            return True
        except sa.exc.IntegrityError:
            return False

    def dismiss_incident(self, incident_id: str, *, actor: str, reason: str) -> bool:
        """Open -> dismissed, its audit line and its alert's update in one transaction;
        False when the incident was no longer open (someone acted first)."""
        with self.engine.begin() as conn:
            if not inc.dismiss_in(conn, incident_id):
                return False
            enqueue_in(conn, incident_id, Notification("root_update"))
            audit_in(conn, actor=actor, action="dismiss", incident_id=incident_id, detail=reason)
        return True

    def alert_posted(self, item: OutboxItem, *, channel: str | None, root_ts: str) -> None:
        """An incident's alert was delivered: the message is sent and the incident remembers
        where its alert is, together."""
        with self.engine.begin() as conn:
            mark_sent_in(conn, item)
            inc.set_root_in(conn, item.incident_id, channel, root_ts)

    def set_watched(self, *, source: str, table: str, watched: bool, actor: str) -> bool:
        """Watch or stop watching ``table``, with its audit line in the same transaction;
        False (and no audit line) if it already was as asked."""
        with self.engine.begin() as conn:
            changed = set_watched_in(conn, source, table, watched, actor)
            if changed:
                verb = "watch" if watched else "unwatch"
                audit_in(conn, actor=actor, action=verb, detail=f"table {table}")
        return changed

    # ------------------------------------------------------------------ findings and plans
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
        with self.engine.begin() as conn:
            finding_id = save_finding_in(
                conn,
                source=source,
                table=table,
                restore_point=restore_point,
                damage=damage,
                incident_id=incident_id,
            )
            if incident_id is not None:
                detail = f"restore point {restore_point.isoformat()}"
                audit_in(conn, incident_id=incident_id, actor=actor, action="find", detail=detail)
        return finding_id

    def write(self, writes: Callable[[Connection], None]) -> None:
        """Run ``writes`` (``*_in`` functions of this package) in one transaction."""
        with self.engine.begin() as conn:
            writes(conn)

    def replace_plan(
        self, old: PlanRecord, new: PlanRecord, *notes: Note, also: AlsoInTx | None = None
    ) -> bool:
        """Compare-and-set: store ``new`` only if the record is still at ``old.version``;
        ``notes`` are audited in the same transaction, so no state is seen without its line.
        ``also`` writes what must commit with it (a queued message, an incident's state)."""
        with self.engine.begin() as conn:
            won = _replace_plan_in(conn, old, new, notes)
            if won and also is not None:
                also(conn, new)
            return won

    def update_plan(
        self,
        plan_id: str,
        change: Callable[[PlanRecord], PlanRecord],
        *notes: Note,
        also: AlsoInTx | None = None,
    ) -> PlanRecord | None:
        """``plans.update`` with ``notes`` (and ``also``) in each attempt's transaction: the
        stored record, or None if the plan is gone or stayed contended."""
        return update_with(
            self.plans.get,
            lambda old, new: self.replace_plan(old, new, *notes, also=also),
            plan_id,
            change,
        )

    # ------------------------------------------------------------------ schema changes
    def replace_change(
        self,
        old: ChangeRecord,
        new: ChangeRecord,
        *notes: Note,
        also: Callable[[Connection], None] | None = None,
    ) -> bool:
        """Compare-and-set a schema change request, its audit lines (and ``also``, e.g. the
        queued outcome message) in the same transaction."""
        with self.engine.begin() as conn:
            won = replace_change_in(conn, old, new)
            if won:
                for n in notes:
                    audit_in(conn, actor=n.actor, action=n.action, detail=n.detail, ref=new.id)
                if also is not None:
                    also(conn)
        return won

    def save_change(self, rec: ChangeRecord, note: Note) -> None:
        """A new request and its audit line, together."""
        with self.engine.begin() as conn:
            save_change_in(conn, rec)
            audit_in(conn, actor=note.actor, action=note.action, detail=note.detail, ref=rec.id)

    def set_retention(
        self, *, source: str, table: str, keep_seconds: float, method: str, actor: str, ref: str
    ) -> None:
        """Store a table's retention with its audit line, in one transaction."""
        with self.engine.begin() as conn:
            set_retention_in(conn, source, table, keep_seconds, method, actor)
            detail = f"{table}: keep {keep_seconds:.0f} s of history ({method})"
            audit_in(conn, actor=actor, action="retention", detail=detail, ref=ref)

    def record_prune(self, *, source: str, table: str, rows: int, detail: str) -> None:
        """What a pruning pass removed, with its audit line."""
        with self.engine.begin() as conn:
            pruned_in(conn, source, table, rows)
            audit_in(conn, actor="flightvault", action="prune", detail=detail)

    # ------------------------------------------------------------------ jobs
    def remind(self, job: Job, rec: PlanRecord, notice: Notification) -> bool:
        """Finish a reminder job: its audit line and its message, if and only if this caller
        finished it (compare-and-set on the job)."""
        with self.engine.begin() as conn:
            if not finish_in(conn, job):
                return False
            detail = "approvers reminded"
            audit_in(conn, actor="flightvault", action="reminded", plan=rec, detail=detail)
            enqueue_in(conn, None, notice)
        return True

    def expire_plan(
        self, job: Job, rec: PlanRecord, expired: PlanRecord, notice: Notification | None
    ) -> bool:
        """Finish an expiry job by moving ``rec`` to ``expired``: both compare-and-sets win,
        with the audit line and ``notice``, or nothing changes (the plan moved meanwhile or
        another process finished the job; then it is tried again next time)."""
        with self.engine.connect() as conn, conn.begin() as tx:
            if not finish_in(conn, job):
                return False
            if not _replace_plan_in(conn, rec, expired, (EXPIRED,)):
                tx.rollback()
                return False
            if notice is not None:
                enqueue_in(conn, None, notice)
        return True


def _open_incident_in(conn: Connection, incident: Incident) -> None:
    inc.create_in(conn, incident)
    detail = f"{incident.table}: damage committed at {incident.first_instant.isoformat()}"
    audit_in(conn, incident_id=incident.id, actor="flightvault", action="detected", detail=detail)


def _replace_plan_in(
    conn: Connection, old: PlanRecord, new: PlanRecord, notes: tuple[Note, ...]
) -> bool:
    won = replace_plan_in(conn, old, new)
    if won:
        notes_in(conn, new, notes)
    return won


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
