"""Posting a schema change request: stored *requested* by whoever asked, audited, shown with
Approve / Cancel. ``usecases.protect`` and ``usecases.retention`` build the request;
``usecases.schema_change`` decides on it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from core import approvals
from core.approvals import PlanState
from core.state.audit import Note
from core.state.changes import ChangeRecord
from core.state.common import new_id
from usecases.context import Context
from usecases.port import Port, Posted, Thread, Undelivered
from usecases.render.change import change_message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Done:
    """What an approved schema change did: the sentence for the thread, and its record."""

    sentence: str
    outcome: dict[str, Any]


def new_request(
    ctx: Context, *, kind: str, table: str, spec: dict[str, Any], user: str, thread: Thread
) -> ChangeRecord:
    """Asking is requesting: the person who typed the command is the requester, so the
    approval that runs it must come from someone else."""
    now = datetime.now(UTC)
    return ChangeRecord(
        id=new_id(),
        source=ctx.source,
        kind=kind,
        table=table,
        state=PlanState.REQUESTED,
        spec=spec,
        requester=user,
        approvals=(),
        required=ctx.settings.vault_required_approvals,
        version=0,
        channel=thread.channel,
        thread_ts=thread.ts,
        ts=None,
        outcome=None,
        created_at=now,
        expires_at=approvals.expiry(now, ctx.settings.vault_plan_ttl),
    )


def post_request(ctx: Context, out: Port, rec: ChangeRecord, detail: str) -> ChangeRecord:
    """Store and audit first (no click can precede its request in the trail), then show it."""
    ctx.store.save_change(rec, Note(rec.requester or "", f"{rec.kind} request", detail))
    shown_as = change_message(rec, ctx.label(rec.table))
    posted = out.post(Thread(rec.channel or "", rec.thread_ts), shown_as)
    stored = ctx.store.changes.update(  # a click may have moved the version on meanwhile
        rec.id, lambda current: replace(current, channel=posted.channel, ts=posted.ts)
    )
    if stored is None:
        return replace(rec, channel=posted.channel, ts=posted.ts)
    if stored.state is not rec.state:
        refresh(ctx, out, stored)
    return stored


def refresh(ctx: Context, out: Port, rec: ChangeRecord) -> None:
    """Show the request's new state on its message; best effort (the store has the truth).
    ``ctx`` is the view of the request's schema (it names the table)."""
    if rec.ts and rec.channel:
        try:
            out.update(Posted(rec.channel, rec.ts), change_message(rec, ctx.label(rec.table)))
        except Undelivered as exc:
            log.warning("could not update change request %s: %s", rec.id, exc)
