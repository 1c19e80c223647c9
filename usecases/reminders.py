"""Reminders and expiry notices for restore plans, as persisted jobs.

A preview schedules its expiry; a request schedules a reminder. The leader
runs due jobs every second. Finishing a job, queuing its message and (for
expiry) moving the plan to *expired* happen in one state-store transaction,
so after a crash or restart a job is either still pending (and runs) or done
(and never repeats).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from core.approvals import OPEN, PlanRecord, PlanState
from core.state.common import Notification
from core.state.jobs import Job, JobKind
from usecases.context import Context
from usecases.port import Port
from usecases.render.restore import expiry_message, reminder_message
from usecases.restore import refresh_preview, reopen_incident

log = logging.getLogger(__name__)


def _thread(rec: PlanRecord) -> dict[str, str]:
    return {"channel": rec.channel or "", "thread_ts": rec.thread_ts or rec.ts or ""}


def run_due_jobs(deps: Context, out: Port) -> int:
    """Run every due job once; returns how many said something."""
    said = 0
    for job in deps.store.jobs.due():
        rec = deps.store.plans.get(job.plan_id)
        if rec is None:
            deps.store.jobs.finish(job)
        elif job.kind is JobKind.REMIND:
            said += _remind(deps, job, rec)
        else:
            said += _expire(deps, out, job, rec)
    if said:
        out.flush()
    return said


def _remind(deps: Context, job: Job, rec: PlanRecord) -> int:
    if rec.state is not PlanState.REQUESTED:
        deps.store.jobs.finish(job)  # approved, cancelled or expired meanwhile: nothing to say
        return 0
    message = reminder_message(rec, deps.settings.vault_approvers).as_kwargs()
    notice = Notification("message", {**_thread(rec), **message})
    return int(deps.store.remind(job, rec, notice))


def _expire(deps: Context, out: Port, job: Job, rec: PlanRecord) -> int:
    notice = None
    if rec.requester and rec.state in (*OPEN, PlanState.EXPIRED):
        message = expiry_message(rec).as_kwargs()
        notice = Notification("message", {**_thread(rec), **message})
    if rec.state not in OPEN:
        # Finished, or already expired by a late click: only a requested plan's notice is due.
        won = deps.store.jobs.finish(job, notify=notice if rec.state is PlanState.EXPIRED else None)
        return int(won and notice is not None and rec.state is PlanState.EXPIRED)
    expired = replace(rec, state=PlanState.EXPIRED)
    if not deps.store.expire_plan(job, rec, expired, notice):
        return 0  # the plan moved (the job stays pending) or another process ran the job
    current = replace(expired, version=rec.version + 1)
    refresh_preview(deps, out, current)  # its buttons give way to its final state
    reopen_incident(deps, current)
    return int(notice is not None)
