"""The two-person rules, as pure decisions: no database, no Slack."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core import approvals
from core.approvals import PlanRecord, PlanState, Refused
from core.freeze import FreezeRefused, approve_unfreeze, cancel_unfreeze, request_unfreeze
from core.plan import RestorePlan
from core.state.freezes import Freeze, FreezeState

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def record(**changes: object) -> PlanRecord:
    rec = PlanRecord(
        id="p1",
        source="db",
        incident_id=None,
        table="stations",
        kind="restore",
        state=PlanState.PREVIEWED,
        plan=RestorePlan(table="stations", restore_point=NOW, steps=(), tables=()),
        requester=None,
        approvals=(),
        required=1,
        version=0,
        channel="C1",
        thread_ts=None,
        ts="1.1",
        outcome=None,
        undo_of=None,
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
    )
    return replace(rec, **changes)  # type: ignore[arg-type]


def test_a_request_then_another_persons_approval_executes() -> None:
    asked = approvals.request(record(), "U0ALICE", authorised=True)
    assert (asked.state, asked.requester) == (PlanState.REQUESTED, "U0ALICE")
    done = approvals.approve(asked, "U0BOB", authorised=True)
    assert done.state is PlanState.EXECUTING and done.approvals == ("U0BOB",)


def test_the_requester_cannot_approve_their_own_request() -> None:
    asked = approvals.request(record(), "U0ALICE", authorised=True)
    with pytest.raises(Refused, match="second, different person"):
        approvals.approve(asked, "U0ALICE", authorised=True)


def test_two_approvals_needed_wait_for_the_second_person() -> None:
    asked = approvals.request(record(required=2), "U0ALICE", authorised=True)
    once = approvals.approve(asked, "U0BOB", authorised=True)
    assert once.state is PlanState.REQUESTED
    with pytest.raises(Refused, match="already approved"):
        approvals.approve(once, "U0BOB", authorised=True)
    assert approvals.approve(once, "U0CAROL", authorised=True).state is PlanState.EXECUTING


def test_outsiders_are_refused_with_the_one_wording() -> None:
    with pytest.raises(Refused, match=r"^Only people listed in VAULT_APPROVERS can request"):
        approvals.request(record(), "U0MALLORY", authorised=False)
    asked = approvals.request(record(), "U0ALICE", authorised=True)
    with pytest.raises(Refused, match=r"^Only people listed in VAULT_APPROVERS can approve"):
        approvals.approve(asked, "U0MALLORY", authorised=False)


def test_a_requester_may_cancel_without_being_an_approver_and_nobody_else_may() -> None:
    asked = approvals.request(record(), "U0ALICE", authorised=True)
    assert approvals.cancel(asked, "U0ALICE", authorised=False).state is PlanState.CANCELLED
    with pytest.raises(Refused, match="requester or an approver"):
        approvals.cancel(asked, "U0MALLORY", authorised=False)


@pytest.mark.parametrize("state", [s for s in PlanState if s not in approvals.OPEN])
def test_a_closed_plan_refuses_every_decision(state: PlanState) -> None:
    closed = record(state=state, requester="U0ALICE")
    for decide in (approvals.request, approvals.approve, approvals.cancel):
        with pytest.raises(Refused, match="Nothing changed"):
            decide(closed, "U0BOB", authorised=True)


def test_expiry_is_decided_from_the_clock_and_only_for_open_plans() -> None:
    rec = record()
    assert approvals.check_open_or_expire(rec, NOW) is None
    late = approvals.check_open_or_expire(rec, rec.expires_at + timedelta(seconds=1))
    assert late is not None and late.state is PlanState.EXPIRED
    done = record(state=PlanState.EXECUTED)
    assert approvals.check_open_or_expire(done, rec.expires_at + timedelta(hours=1)) is None


def frozen(**changes: object) -> Freeze:
    f = Freeze(
        id="f1",
        source="db",
        scope="table",
        table="stations",
        state=FreezeState.FROZEN,
        frozen_by="U0ALICE",
        frozen_at=NOW,
    )
    return replace(f, **changes)  # type: ignore[arg-type]


def test_an_unfreeze_needs_an_asker_and_a_different_approver() -> None:
    asked = request_unfreeze(frozen(), "U0ALICE", authorised=True)
    assert asked.state is FreezeState.UNFREEZING
    with pytest.raises(FreezeRefused, match="second, different person"):
        approve_unfreeze(asked, "U0ALICE", authorised=True, required=1)
    with pytest.raises(FreezeRefused, match=r"^Only people listed in VAULT_APPROVERS"):
        approve_unfreeze(asked, "U0MALLORY", authorised=False, required=1)
    lifted = approve_unfreeze(asked, "U0BOB", authorised=True, required=1)
    assert lifted.state is FreezeState.LIFTED


def test_an_unfreeze_request_can_be_withdrawn_by_its_asker_only() -> None:
    asked = request_unfreeze(frozen(), "U0ALICE", authorised=True)
    with pytest.raises(FreezeRefused, match="requester or an approver"):
        cancel_unfreeze(asked, "U0MALLORY", authorised=False)
    back = cancel_unfreeze(asked, "U0ALICE", authorised=False)
    assert back.state is FreezeState.FROZEN and back.requester is None
    with pytest.raises(FreezeRefused, match="no pending unfreeze"):
        cancel_unfreeze(back, "U0ALICE", authorised=True)
