"""Deciding on a schema change request: the restore's two-person rule, for DDL.

``core.approvals`` decides (requester ≠ approver, VAULT_REQUIRED_APPROVALS,
expiry); the state store applies the decision by compare-and-set on the
request's version, with its audit line in the same transaction; only the click
whose compare-and-set moves the request to *executing* runs it, so a double
click or two approvers at once never run it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.errors import log_unexpected, unexpected_sentence
from core import approvals
from core.approvals import OPEN, PlanState, Refused, Wording
from core.changelock import holding
from core.errors import VaultError
from core.state.audit import Note
from core.state.changes import ChangeRecord
from core.state.common import Notification, enqueue_in
from usecases import protect, retention
from usecases.change_request import Done, refresh
from usecases.context import Authorised, Context
from usecases.port import Port, Posted
from usecases.render.change import outcome_message

log = logging.getLogger(__name__)
DECIDE_ATTEMPTS = 5
WORDS = Wording("schema change", "schema change request", "ask again with the command")
EXECUTORS: dict[str, Callable[[Context, ChangeRecord], Done]] = {
    protect.KIND: protect.execute,
    retention.KIND: retention.execute,
}
INTERRUPTED: dict[str, Callable[[Context, ChangeRecord], tuple[Done, bool]]] = {
    protect.KIND: protect.interrupted,
    retention.KIND: retention.interrupted,
}
LOCK_WAIT = 5.0  # seconds an approval waits for a sweep looking at the same request


def decide(
    ctx: Context,
    out: Port,
    action: str,
    change_id: str,
    user: str,
    *,
    authorised: Authorised,
    shown: Posted | None = None,
) -> None:
    """``approve`` or ``cancel``; raises ``Refused`` (one private sentence) when refused.
    The request runs in the schema it was made in (its ``source``), whichever was asked."""
    for _ in range(DECIDE_ATTEMPTS):
        rec = _decidable(ctx, out, change_id, user, shown)
        view = ctx.for_source(rec.source)
        try:
            step = approvals.approve_votes if action == "approve" else approvals.cancel_votes
            new = rec.with_votes(step(rec.votes, user, authorised=authorised(), words=WORDS))
        except Refused as exc:
            ctx.metrics.refused_approvals.inc()
            ctx.store.audit.record(
                actor=user, action=f"refused {action}", detail=str(exc), ref=rec.id
            )
            raise
        runs = new.state is PlanState.EXECUTING
        with holding(view.engine, rec.id, wait=LOCK_WAIT if runs else 0) as locked:
            if runs and not locked:
                raise Refused("This request is being settled right now; look at it again.")
            if ctx.store.replace_change(rec, new, Note(user, action, f"{rec.kind} {rec.table}")):
                stored = replace(new, version=rec.version + 1)
                refresh(view, out, stored)
                if runs:  # under the lock: the sweep leaves it alone while this process lives
                    run(view, out, stored)
                return
    raise Refused("Someone else acted on this request at the same moment; look at it again.")


def _decidable(
    ctx: Context, out: Port, change_id: str, user: str, shown: Posted | None
) -> ChangeRecord:
    rec = ctx.store.changes.get(change_id[:64])
    if rec is None:
        raise Refused("That schema change request is not known here; ask again.")
    if shown is not None and (
        (rec.channel and shown.channel != rec.channel) or (rec.ts and shown.ts != rec.ts)
    ):
        raise Refused("That button is not on this request; decide on the request itself.")
    if rec.state in OPEN and datetime.now(UTC) > rec.expires_at:
        expired = replace(rec, state=PlanState.EXPIRED)
        if ctx.store.replace_change(rec, expired, Note(user, "expired", "request expired")):
            refresh(ctx.for_source(rec.source), out, replace(expired, version=rec.version + 1))
        raise approvals.closed_refusal(expired.votes, WORDS)
    return rec


def run(ctx: Context, out: Port, rec: ChangeRecord) -> None:
    """Exactly one caller per request gets here: the compare-and-set winner. ``ctx`` is the
    view of the request's schema."""
    try:
        done = EXECUTORS[rec.kind](ctx, rec)
        ok = True
    except VaultError as exc:
        done, ok = Done(str(exc), {}), False
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        done, ok = Done(f"The database refused ({reason[:200]}). Nothing changed.", {}), False
    except Exception:
        done, ok = Done(unexpected_sentence(log_unexpected(log, f"running {rec.id}")), {}), False
    _settle(ctx, out, rec, done, ok)


def _settle(
    ctx: Context, out: Port, rec: ChangeRecord, done: Done, ok: bool, action: str = ""
) -> bool:
    """Store the outcome (audited) and say it in the thread, in one transaction so a dying
    process cannot leave it settled with nobody told; False if the request had already
    left *executing* (someone else settled it)."""
    state = PlanState.EXECUTED if ok else PlanState.FAILED
    after = replace(rec, state=state, outcome={**done.outcome, "sentence": done.sentence})
    message = Notification(
        "message", {**rec.thread.kwargs(), **outcome_message(rec, done.sentence, ok)}
    )
    for _ in range(DECIDE_ATTEMPTS):  # only the lock holder moves it on; bookkeeping may race
        current = ctx.store.changes.get(rec.id) or rec
        if current.state is not PlanState.EXECUTING:
            return False
        final = replace(after, version=current.version, ts=current.ts, channel=current.channel)
        if ctx.store.replace_change(
            current,
            final,
            Note("flightvault", action or state.value, done.sentence),
            also=lambda conn: enqueue_in(conn, None, message),
        ):
            refresh(ctx, out, replace(final, version=current.version + 1))
            break
    else:  # stayed contended: the outcome is not stored, but the thread still hears of it
        ctx.store.outbox.enqueue(incident_id=None, notification=message)
    out.flush()
    return True


def sweep_interrupted_changes(ctx: Context, out: Port) -> int:
    """Requests left *executing* by a process that died (their lock is free: the server
    released it with the dead connection): protect is done if the table is now versioned,
    else failed; retention says what was kept. Run by the leader's sweep chore; the
    count settled."""
    swept = 0
    for rec in ctx.store.changes.executing(source=ctx.source):
        with holding(ctx.engine, rec.id) as free:
            current = ctx.store.changes.get(rec.id)
            if not free or current is None or current.state is not PlanState.EXECUTING:
                continue  # still running in a live process, or settled meanwhile
            done, ok = INTERRUPTED[rec.kind](ctx, current)
            swept += _settle(ctx, out, current, done, ok, "interrupted")
    return swept
