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


def _closed(rec: PlanRecord) -> Refused:
    said = {
        PlanState.EXECUTING: "is running right now",
        PlanState.EXECUTED: "has already been carried out",
        PlanState.FAILED: "failed; preview it again to retry",
        PlanState.STALE: "is stale: the data changed since the preview; preview it again",
        PlanState.CANCELLED: "was cancelled",
        PlanState.EXPIRED: f"expired at {fmt_instant(rec.expires_at)}; preview it again",
    }[rec.state]
    return Refused(f"This restore plan {said}. Nothing changed.")


def check_open_or_expire(rec: PlanRecord, now: datetime) -> PlanRecord | None:
    """None if the plan's clock has not run out; else the expired record to store."""
    if rec.state in OPEN and now > rec.expires_at:
        return replace(rec, state=PlanState.EXPIRED)
    return None


def request(rec: PlanRecord, user: str, *, authorised: bool) -> PlanRecord:
    if rec.state is not PlanState.PREVIEWED:
        if rec.state is PlanState.REQUESTED:
            raise Refused(
                f"{rec.requester} already requested this restore; it needs approval.",
                people=(rec.requester or "",),
            )
        raise _closed(rec)
    if not authorised:
        raise Refused(not_allowed("request a restore"))
    return replace(rec, state=PlanState.REQUESTED, requester=user)


def approve(rec: PlanRecord, user: str, *, authorised: bool) -> PlanRecord:
    """The record after this approval; EXECUTING when it is the last one needed."""
    if rec.state is PlanState.PREVIEWED:
        raise Refused("Nobody has requested this restore yet; click Request restore first.")
    if rec.state is not PlanState.REQUESTED:
        raise _closed(rec)
    if not authorised:
        raise Refused(not_allowed("approve a restore"))
    if user == rec.requester:
        raise Refused("You requested this restore, so a second, different person must approve it.")
    if user in rec.approvals:
        raise Refused("You have already approved this restore; it needs someone else now.")
    approvals = (*rec.approvals, user)
    done = len(approvals) >= rec.required
    return replace(rec, approvals=approvals, state=PlanState.EXECUTING if done else rec.state)


def cancel(rec: PlanRecord, user: str, *, authorised: bool) -> PlanRecord:
    if rec.state not in OPEN:
        raise _closed(rec)
    if user != rec.requester and not authorised:
        raise Refused("Only the requester or an approver can cancel this restore.")
    return replace(rec, state=PlanState.CANCELLED)


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
