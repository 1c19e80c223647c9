"""The two-person rule as pure decisions over a plan's record.

Each function either returns what the click changes or raises ``Refused``
with the sentence the clicker sees. The state store applies the change by
compare-and-set on the record's version, so two clicks deciding at once
cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.errors import VaultError, not_allowed
from core.plan import RestorePlan
from core.thread import Thread
from core.timeutil import fmt_instant


class PlanState(StrEnum):
    PREVIEWED = "previewed"
    REQUESTED = "requested"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    STALE = "stale"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN = (PlanState.PREVIEWED, PlanState.REQUESTED)


class Refused(VaultError):
    """A click that changes nothing; the message says why."""


@dataclass(frozen=True)
class PlanRecord:
    id: str
    source: str
    incident_id: str | None
    table: str
    kind: str
    state: PlanState
    plan: RestorePlan
    requester: str | None
    approvals: tuple[str, ...]
    required: int
    version: int
    channel: str | None
    thread_ts: str | None
    ts: str | None
    outcome: dict[str, Any] | None
    undo_of: str | None
    created_at: datetime
    expires_at: datetime

    @property
    def thread(self) -> Thread:
        """Where the preview was posted (a thread, or the channel itself)."""
        return Thread(self.channel or "", self.thread_ts)

    @property
    def incident_thread(self) -> Thread:
        """Where its follow-ups go: the preview's thread, or one under the preview."""
        return Thread(self.channel or "", self.thread_ts or self.ts)


@dataclass(frozen=True, slots=True)
class Votes:
    """The two-person state any approvable request has (a restore plan, a schema change)."""

    state: PlanState
    requester: str | None
    approvals: tuple[str, ...]
    required: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Wording:
    """How refusals name the thing decided on, so restores and schema changes share rules."""

    noun: str  # "restore"
    thing: str  # "restore plan"
    request_hint: str  # what to click first


RESTORE = Wording("restore", "restore plan", "click Request restore first")


def votes_of(rec: PlanRecord) -> Votes:
    return Votes(rec.state, rec.requester, rec.approvals, rec.required, rec.expires_at)


def closed_refusal(v: Votes, words: Wording) -> Refused:
    said = {
        PlanState.EXECUTING: "is running right now",
        PlanState.EXECUTED: "has already been carried out",
        PlanState.FAILED: "failed; preview it again to retry",
        PlanState.STALE: "is stale: the data changed since the preview; preview it again",
        PlanState.CANCELLED: "was cancelled",
        PlanState.EXPIRED: f"expired at {fmt_instant(v.expires_at)}; preview it again",
    }[v.state]
    return Refused(f"This {words.thing} {said}. Nothing changed.")


def request_votes(v: Votes, user: str, *, authorised: bool, words: Wording) -> Votes:
    if v.state is not PlanState.PREVIEWED:
        if v.state is PlanState.REQUESTED:
            raise Refused(
                f"{v.requester} already requested this {words.noun}; it needs approval.",
                people=(v.requester or "",),
            )
        raise closed_refusal(v, words)
    if not authorised:
        raise Refused(not_allowed(f"request a {words.noun}"))
    return replace(v, state=PlanState.REQUESTED, requester=user)


def approve_votes(v: Votes, user: str, *, authorised: bool, words: Wording) -> Votes:
    """The votes after this approval; EXECUTING when it is the last one needed."""
    if v.state is PlanState.PREVIEWED:
        raise Refused(f"Nobody has requested this {words.noun} yet; {words.request_hint}.")
    if v.state is not PlanState.REQUESTED:
        raise closed_refusal(v, words)
    if not authorised:
        raise Refused(not_allowed(f"approve a {words.noun}"))
    if user == v.requester:
        raise Refused(
            f"You requested this {words.noun}, so a second, different person must approve it."
        )
    if user in v.approvals:
        raise Refused(f"You have already approved this {words.noun}; it needs someone else now.")
    approvals = (*v.approvals, user)
    done = len(approvals) >= v.required
    return replace(v, approvals=approvals, state=PlanState.EXECUTING if done else v.state)


def cancel_votes(v: Votes, user: str, *, authorised: bool, words: Wording) -> Votes:
    if v.state not in OPEN:
        raise closed_refusal(v, words)
    if user != v.requester and not authorised:
        raise Refused(f"Only the requester or an approver can cancel this {words.noun}.")
    return replace(v, state=PlanState.CANCELLED)


def _applied(rec: PlanRecord, v: Votes) -> PlanRecord:
    return replace(rec, state=v.state, requester=v.requester, approvals=v.approvals)


def check_open_or_expire(rec: PlanRecord, now: datetime) -> PlanRecord | None:
    """None if the plan's clock has not run out; else the expired record to store."""
    if rec.state in OPEN and now > rec.expires_at:
        return replace(rec, state=PlanState.EXPIRED)
    return None


def request(rec: PlanRecord, user: str, *, authorised: bool) -> PlanRecord:
    return _applied(rec, request_votes(votes_of(rec), user, authorised=authorised, words=RESTORE))


def approve(rec: PlanRecord, user: str, *, authorised: bool) -> PlanRecord:
    """The record after this approval; EXECUTING when it is the last one needed."""
    return _applied(rec, approve_votes(votes_of(rec), user, authorised=authorised, words=RESTORE))


def cancel(rec: PlanRecord, user: str, *, authorised: bool) -> PlanRecord:
    return _applied(rec, cancel_votes(votes_of(rec), user, authorised=authorised, words=RESTORE))


# ---------------------------------------------------------------------- typing and expiry


def check_clicked_on(rec: PlanRecord, channel: str, ts: str) -> None:
    """A decision counts only from the message that shows the plan: a button value copied
    into another message (another channel, another thread) names the plan but is not it."""
    if (rec.channel and channel != rec.channel) or (rec.ts and ts != rec.ts):
        raise Refused(
            "That button is not on this plan's preview; decide on the preview itself. "
            "Nothing changed."
        )


def needs_typing(rec: PlanRecord, threshold: int) -> bool:
    """Large restores are approved in a dialog where the approver types the table name."""
    return rec.plan.rows > threshold


def check_typed(rec: PlanRecord, *, confirmed: bool, threshold: int) -> None:
    """Refuse an approval of a large plan that skipped the typed confirmation."""
    if not confirmed and needs_typing(rec, threshold):
        raise Refused(
            f"This restore writes {rec.plan.rows:,} rows, more than VAULT_CONFIRM_ROWS "
            f"({threshold:,}); approve it in the dialog the Approve button opens by typing the "
            "table name. Nothing changed."
        )


def typed_matches(rec: PlanRecord, typed: str) -> bool:
    """The approver typed the table's name (surrounding spaces forgiven)."""
    return typed.strip() == rec.table


def expiry(now: datetime, ttl_seconds: float) -> datetime:
    """When a plan previewed ``now`` stops accepting decisions."""
    return now + timedelta(seconds=ttl_seconds)


def expired_refusal(rec: PlanRecord) -> Refused:
    return Refused(
        f"This restore plan expired at {rec.expires_at:%H:%M:%S} UTC; preview it again. "
        "Nothing changed."
    )
