"""The restore's side effects, in order: preview, decisions, execution, messages, audit.

Handlers call these after their ack. Every decision is computed by
``core.approvals`` and stored by compare-and-set; only the click whose
compare-and-set moves the plan to *executing* runs the restore.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from bot.errors import log_unexpected, unexpected_sentence
from core import approvals
from core.approvals import PlanRecord, PlanState, Refused
from core.catalogue import load_catalogue
from core.drill import plan_to_instant
from core.errors import InvalidInput, VaultError
from core.history import ChangeEvent
from core.plan import RestorePlan, Step, build_plan, current_fingerprint
from core.restore import (
    RestoreOutcome,
    StalePlan,
    acquire,
    execute_plan,
    is_running,
    maybe_rehearse,
    release,
    restore_events,
)
from core.state.audit import Note
from core.state.common import Notification, enqueue_in, new_id
from core.state.incidents import IncidentStatus, set_status_in
from core.state.jobs import JobKind
from core.timeutil import ONE_MICROSECOND, fmt_instant
from usecases.context import Authorised, Context
from usecases.port import Port, Posted, Thread, Undelivered
from usecases.render.restore import (
    failure_message,
    outcome_message,
    preview_message,
    progress_message,
)

log = logging.getLogger(__name__)
DECIDE_ATTEMPTS = 5  # compare-and-set rounds before a click is told to look again
PROGRESS_EVERY = 1.0  # seconds between progress edits: an updated message, not a flood


def _record(
    deps: Context,
    plan: RestorePlan,
    *,
    kind: str,
    incident_id: str | None,
    thread: Thread,
    undo_of: str | None = None,
) -> PlanRecord:
    now = datetime.now(UTC)
    return PlanRecord(
        id=new_id(),
        source=deps.source,
        incident_id=incident_id,
        table=plan.table,
        kind=kind,
        state=PlanState.PREVIEWED,
        plan=plan,
        requester=None,
        approvals=(),
        required=deps.settings.vault_required_approvals,
        version=0,
        channel=thread.channel,
        thread_ts=thread.ts,
        ts=None,
        outcome=None,
        undo_of=undo_of,
        created_at=now,
        expires_at=approvals.expiry(now, deps.settings.vault_plan_ttl),
    )


def post_preview(deps: Context, out: Port, rec: PlanRecord, user: str) -> None:
    deps.store.plans.save(rec)
    # Audited before the message is visible, so no click on it can precede it in the trail.
    deps.store.audit.record(
        actor=user,
        action="preview",
        plan=rec,
        detail=f"{rec.plan.rows:,} rows in {len(rec.plan.steps)} steps",
    )
    posted = out.post(rec.thread, preview_message(rec))
    shown = deps.store.plans.update(
        rec.id, lambda r: replace(r, ts=posted.ts, channel=posted.channel)
    )
    if shown is None:
        log.warning("could not store where the preview of plan %s was posted", rec.id)
    elif shown.state is not rec.state:
        refresh_preview(deps, out, shown)  # a click came before we knew the message: show it
    schedule_expiry(deps, rec)


def schedule_expiry(deps: Context, rec: PlanRecord) -> None:
    deps.store.jobs.schedule(JobKind.EXPIRE, rec.id, rec.expires_at)


def schedule_reminder(deps: Context, rec: PlanRecord) -> None:
    after = deps.settings.vault_remind_after
    due = datetime.now(UTC) + timedelta(seconds=after)
    if after > 0 and due < rec.expires_at:
        deps.store.jobs.schedule(JobKind.REMIND, rec.id, due)


def reopen_incident(deps: Context, rec: PlanRecord) -> None:
    """A cancelled or expired request leaves its incident open again (not restore pending)."""
    if rec.incident_id is None:
        return
    incident = deps.store.incidents.get(rec.incident_id)
    if incident is not None and incident.status is IncidentStatus.RESTORE_PENDING:
        deps.store.incidents.set_status(rec.incident_id, IncidentStatus.OPEN)


def preview_finding(deps: Context, out: Port, finding_id: str, user: str, thread: Thread) -> None:
    saved = deps.store.plans.finding(finding_id)
    if saved is None:
        raise InvalidInput("That finding is no longer known; run `/vault find` again.")
    deps = deps.for_source(saved.source)
    with deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        plan = build_plan(
            conn,
            catalogue,
            table=saved.table,
            events=list(saved.damage),
            restore_point=saved.restore_point,
            extra={"finding_id": finding_id},
        )
    plan = maybe_rehearse(deps.engine, catalogue, plan, up_to=deps.settings.vault_rehearse_rows)
    rec = _record(deps, plan, kind="restore", incident_id=saved.incident_id, thread=thread)
    post_preview(deps, out, rec, user)


def preview_to_instant(
    deps: Context,
    out: Port,
    table: str,
    instant: datetime,
    user: str,
    thread: Thread,
) -> None:
    """Undo every change to ``table`` (and its cascades) after ``instant``, row by row."""
    with deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        plan = plan_to_instant(conn, catalogue, table, instant)
    if plan is None:
        raise InvalidInput("Nothing changed in that table since then; there is nothing to restore.")
    plan = maybe_rehearse(deps.engine, catalogue, plan, up_to=deps.settings.vault_rehearse_rows)
    post_preview(
        deps, out, _record(deps, plan, kind="restore", incident_id=None, thread=thread), user
    )


def preview_view(ctx: Context, out: Port, view_id: str, user: str, thread: Thread) -> None:
    """*Preview restore to here* under a time-travel view: undo everything after it."""
    saved = ctx.store.plans.view(view_id)
    if saved is None:
        raise InvalidInput("That time-travel view has expired; run `/vault at` again.")
    table, instant = saved
    ctx = ctx.for_source(ctx.store.plans.view_source(view_id) or ctx.source)
    preview_to_instant(ctx, out, table, instant, user, thread)


def typed_matches(rec: PlanRecord, typed: str) -> bool:
    """What the approver typed in the confirmation dialog names the plan's table."""
    return approvals.typed_matches(rec, typed)


def needs_typing(deps: Context, rec: PlanRecord) -> bool:
    """Large restores are approved in a dialog where the approver types the table name."""
    return approvals.needs_typing(rec, deps.settings.vault_confirm_rows)


def check_approval(
    rec: PlanRecord, user: str, *, authorised: Authorised, shown: Posted | None = None
) -> None:
    """Raise the refusal an approval by ``user`` would meet now, before asking them to type."""
    if shown is not None:
        approvals.check_clicked_on(rec, shown.channel, shown.ts)
    if approvals.check_open_or_expire(rec, datetime.now(UTC)) is not None:
        raise approvals.expired_refusal(rec)
    approvals.approve(rec, user, authorised=authorised())


def decide(
    deps: Context,
    out: Port,
    action: str,
    plan_id: str,
    user: str,
    *,
    authorised: Authorised,
    confirmed: bool = False,
    shown: Posted | None = None,
) -> None:
    """Request, approve or cancel; raises ``Refused`` (one private sentence) when refused.

    ``confirmed``: the approver typed the table name in the confirmation dialog.
    ``shown``: the message the button was clicked on (None: the dialog, opened from it).
    """
    known = deps.store.plans.get(plan_id[:64])
    if known is not None:  # the plan's schema; an unknown plan is refused in ``_decidable``
        deps = deps.for_source(known.source)
    try:
        _decide(deps, out, action, plan_id, user, confirmed, authorised, shown)
    except Refused:
        deps.metrics.refused_approvals.inc()
        raise


def _decide(
    deps: Context,
    out: Port,
    action: str,
    plan_id: str,
    user: str,
    confirmed: bool,
    authorised: Authorised,
    shown: Posted | None = None,
) -> None:
    """Re-read and decide again when another write moved the plan on; the pure step and
    the compare-and-set keep the two-person rule whatever the interleaving."""
    for _ in range(DECIDE_ATTEMPTS):
        rec = _decidable(deps, out, action, plan_id, user, confirmed, shown)
        new = _step(deps, action, rec, user, authorised())
        guard = _lock(deps, new)
        if deps.store.replace_plan(rec, new, Note(user, action, new.state.value)):
            _decided(deps, out, replace(new, version=rec.version + 1), guard)
            return
        if guard is not None:
            release(guard, new.plan)
            guard.close()
    deps.store.audit.record(
        actor=user, action=f"refused {action}", plan=rec, detail="lost a race with another click"
    )
    raise Refused("Someone else acted on this plan at the same moment; look at it again.")


def _decidable(
    deps: Context,
    out: Port,
    action: str,
    plan_id: str,
    user: str,
    confirmed: bool,
    shown: Posted | None = None,
) -> PlanRecord:
    """The plan as it stands now, or the refusal any decision on it meets."""
    rec = deps.store.plans.get(plan_id[:64])
    if rec is None:
        raise Refused("That restore plan is not known here; run `/vault find` again.")
    if shown is not None:
        approvals.check_clicked_on(rec, shown.channel, shown.ts)
    if action == "approve":
        try:
            threshold = deps.settings.vault_confirm_rows
            approvals.check_typed(rec, confirmed=confirmed, threshold=threshold)
        except Refused:
            deps.store.audit.record(
                actor=user, action="refused approve", plan=rec, detail="typed confirmation missing"
            )
            raise
    expired = approvals.check_open_or_expire(rec, datetime.now(UTC))
    if expired is not None:
        if deps.store.replace_plan(rec, expired, Note(user, "expired", "plan expired")):
            refresh_preview(deps, out, expired)
            reopen_incident(deps, expired)
        raise approvals.expired_refusal(expired)
    return rec


def _step(deps: Context, action: str, rec: PlanRecord, user: str, authorised: bool) -> PlanRecord:
    step = {"request": approvals.request, "approve": approvals.approve, "cancel": approvals.cancel}
    try:
        return step[action](rec, user, authorised=authorised)
    except Refused as exc:
        deps.store.audit.record(actor=user, action=f"refused {action}", plan=rec, detail=str(exc))
        raise


def _lock(deps: Context, new: PlanRecord) -> Connection | None:
    """Lock before the plan is stored as executing: a sweep must never see it unguarded."""
    if new.state is not PlanState.EXECUTING:
        return None
    guard = deps.engine.connect()
    if not acquire(guard, new.plan):
        guard.close()
        raise Refused("This restore is already running. Nothing else was started.")
    return guard


def _decided(deps: Context, out: Port, current: PlanRecord, guard: Connection | None) -> None:
    if current.state is PlanState.REQUESTED:
        schedule_reminder(deps, current)
        if current.incident_id:
            deps.store.incidents.set_status(current.incident_id, IncidentStatus.RESTORE_PENDING)
    elif current.state is PlanState.CANCELLED:
        reopen_incident(deps, current)
    if guard is None:
        refresh_preview(deps, out, current)
        return
    try:
        refresh_preview(deps, out, current)
        run(deps, out, current)
    finally:
        release(guard, current.plan)
        guard.close()


def refresh_preview(deps: Context, out: Port, rec: PlanRecord) -> None:
    """Show the plan's new state on its preview; best effort (the state store has the truth)."""
    if rec.ts and rec.channel:
        try:
            out.update(Posted(rec.channel, rec.ts), preview_message(rec))
        except Undelivered as exc:
            log.warning("could not update the preview of plan %s: %s", rec.id, exc)


def run(deps: Context, out: Port, rec: PlanRecord) -> None:
    """Execute; exactly one caller gets here per plan (the compare-and-set winner)."""
    thread = rec.incident_thread
    total = len(rec.plan.steps)
    try:  # progress is a courtesy: a Slack outage must not stop an approved restore
        where: Posted | None = out.post(thread, progress_message(0, total, rec.table))
    except Undelivered:
        where = None
    last = [0.0]

    def progress(done: int, total: int, step: Step) -> None:
        if where is None or (time.monotonic() - last[0] < PROGRESS_EVERY and done != total):
            return
        last[0] = time.monotonic()
        with contextlib.suppress(Undelivered):  # the outcome will tell
            out.update(where, progress_message(done, total, step.table))

    try:
        with deps.engine.connect() as conn:
            catalogue = load_catalogue(conn)
        outcome = execute_plan(deps.engine, catalogue, rec.plan, progress=progress, locked=True)
    except VaultError as exc:
        _failed(deps, out, rec, exc, thread)
        return
    except Exception:
        ref = log_unexpected(log, f"executing plan {rec.id}")
        _failed(deps, out, rec, VaultError(unexpected_sentence(ref)), thread)
        return
    deps.metrics.restore_duration.observe(outcome.seconds)
    written = sum(sum(a.values()) for a in outcome.rows.values())
    repaired = sum(t.repaired for t in rec.plan.tables)
    done = _conclude(
        deps,
        Outcome(
            rec,
            lambda r: replace(r, state=PlanState.EXECUTED, outcome=outcome.to_json()),
            lambda r: outcome_message(r, r.outcome or {}).as_kwargs(),
            restored=True,
        ),
        Note("flightvault", "executed", f"{written:,} rows in {outcome.seconds:.2f} s; verified"),
        Note(
            "flightvault",
            "validated",
            f"verified: {outcome.verified:,} rows equal their versions at "
            f"{fmt_instant(rec.plan.restore_point)}; {repaired:,} dangling references "
            f"repaired; checks {outcome.check_seconds * 1000:.0f} ms",
        ),
    )
    refresh_preview(deps, out, done)
    out.flush()


def _failed(deps: Context, out: Port, rec: PlanRecord, exc: VaultError, thread: Thread) -> None:
    state = PlanState.STALE if isinstance(exc, StalePlan) else PlanState.FAILED
    finding = rec.plan.extra.get("finding_id")
    after = _conclude(
        deps,
        Outcome(
            rec,
            lambda r: replace(r, state=state),
            lambda r: failure_message(r, str(exc), finding).as_kwargs(),
        ),
        Note("flightvault", state.value, str(exc)),
    )
    refresh_preview(deps, out, after)
    out.flush()


@dataclass(frozen=True)
class Outcome:
    """How a restore ends: the plan's new state, the message saying so in its thread, and
    whether its incident is now restored."""

    rec: PlanRecord
    change: Callable[[PlanRecord], PlanRecord]
    message: Callable[[PlanRecord], dict[str, Any]]
    restored: bool = False

    def queue_in(self, conn: Connection, after: PlanRecord) -> None:
        if self.restored and self.rec.incident_id:
            set_status_in(conn, self.rec.incident_id, IncidentStatus.RESTORED)
        payload = {**self.rec.incident_thread.kwargs(), **self.message(after)}
        enqueue_in(conn, None, Notification("message", payload))


def _conclude(deps: Context, end: Outcome, *notes: Note) -> PlanRecord:
    """Store a restore's outcome with its audit lines, its message and its incident's state
    in one transaction: a process dying here cannot leave a restore recorded as run with
    nobody told. Only the process holding the plan's lock gets here, so other writers can
    only have touched bookkeeping: apply it again."""
    stored = deps.store.update_plan(end.rec.id, end.change, *notes, also=end.queue_in)
    if stored is not None:
        return stored
    log.error("could not store the outcome of plan %s; the audit trail lacks it", end.rec.id)
    after = end.change(end.rec)
    deps.store.write(lambda conn: end.queue_in(conn, after))  # the thread still hears of it
    return after


def _send_queued(deps: Context, out: Port, thread: Thread, message: dict[str, Any]) -> None:
    """Outcomes go through the outbox: if Slack is failing now, they are delivered later, in
    order, by whichever process delivers next; never lost."""
    payload = {**thread.kwargs(), **message}
    deps.store.outbox.enqueue(incident_id=None, notification=Notification("message", payload))
    out.flush()


def preview_undo(deps: Context, out: Port, plan_id: str, user: str) -> None:
    """The undo of a finished restore is itself a previewed, two-person restore."""
    rec = deps.store.plans.get(plan_id[:64])
    if rec is None or rec.state is not PlanState.EXECUTED or not rec.outcome:
        raise Refused("Only a restore that has run can be undone. Nothing changed.")
    deps = deps.for_source(rec.source)
    done = [u for u in deps.store.plans.undos_of(rec.id) if u.state is PlanState.EXECUTED]
    if done:  # the outcome's Undo button outlives the undo: a late click must not undo twice
        raise Refused(
            f"This restore was already undone (plan `{done[0].plan.fingerprint}`). Nothing changed."
        )
    outcome = RestoreOutcome.from_json(rec.outcome)
    with deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        events: list[ChangeEvent] = restore_events(conn, catalogue, rec.plan, outcome)
        if not events:
            raise Refused("The restore's own changes are no longer in the history.")
        plan = build_plan(
            conn,
            catalogue,
            table=rec.table,
            events=events,
            restore_point=events[0].instant - ONE_MICROSECOND,
        )
    plan = maybe_rehearse(deps.engine, catalogue, plan, up_to=deps.settings.vault_rehearse_rows)
    undo = _record(
        deps,
        plan,
        kind="undo",
        incident_id=rec.incident_id,
        thread=rec.incident_thread,
        undo_of=rec.id,
    )
    post_preview(deps, out, undo, user)


def sweep_interrupted(deps: Context, out: Port) -> int:
    """Plans left *executing* by a process that died: the database rolled their write back
    (its connection died with it), so they are marked failed, or stale if the data moved."""
    swept = 0
    for rec in deps.store.plans.executing(source=deps.source):
        with deps.engine.connect() as conn:
            if is_running(conn, rec.plan):
                continue
            unchanged = (
                current_fingerprint(conn, load_catalogue(conn), rec.plan) == rec.plan.fingerprint
            )
        state = PlanState.FAILED if unchanged else PlanState.STALE
        after = replace(rec, state=state)
        sentence = (
            "The process running this restore stopped before it finished; the database rolled "
            "it back, so nothing was written. Preview it again to retry."
            if unchanged
            else "The process running this restore stopped before it finished, and the data has "
            "changed since; preview it again."
        )
        if not deps.store.replace_plan(rec, after, Note("flightvault", "interrupted", sentence)):
            continue  # someone else reconciled it first
        refresh_preview(deps, out, after)
        _send_queued(
            deps,
            out,
            rec.incident_thread,
            failure_message(after, sentence, rec.plan.extra.get("finding_id")).as_kwargs(),
        )
        swept += 1
    return swept
