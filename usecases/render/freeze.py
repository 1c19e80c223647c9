"""Freeze messages: the freeze notice, the unfreeze request with its buttons, the root line."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Action
from core.state.freezes import Freeze, FreezeState
from core.timeutil import fmt_instant
from usecases.render import Message, escape_data
from usecases.render.buttons import approve_or_cancel


def _target(f: Freeze) -> str:
    return f"`{escape_data(f.table)}`" if f.table else "the whole server (read_only = ON)"


def _how(f: Freeze) -> str:
    if f.table:
        return "writes by every account but FlightVault's are refused"
    return "every account without READ_ONLY ADMIN is refused writes"


def _lift(f: Freeze) -> str:
    return f"/vault unfreeze {f.table or 'database'}"


def root_line(f: Freeze) -> str:
    """Shown in the incident's alert while the freeze stands."""
    return (
        f":ice_cube: *Frozen:* {_target(f)} since {fmt_instant(f.frozen_at)} by "
        f"<@{f.frozen_by}>; {_how(f)}. Restores still run. Lift with `{_lift(f)}` "
        "(two people)."
    )


def frozen_message(f: Freeze) -> Message:
    text = (
        f":ice_cube: <@{f.frozen_by}> froze {_target(f)}: {_how(f)} until two people lift it "
        f"with `{_lift(f)}`. FlightVault's own restores still run."
    )
    block = SectionBlock(block_id="frozen", text=MarkdownTextObject(text=text))
    return Message(text=f"Frozen: {f.target}", blocks=[block.to_dict()])


def unfreeze_message(f: Freeze) -> Message:
    """The unfreeze request; its buttons give way to the outcome once decided."""
    if f.state is FreezeState.UNFREEZING:
        approved = ", ".join(f"<@{a}>" for a in f.approvals) or "nobody yet"
        text = (
            f":unlock: <@{f.requester}> asks to unfreeze {_target(f)} (frozen by "
            f"<@{f.frozen_by}> at {fmt_instant(f.frozen_at)}). A second, different approver "
            f"must approve. Approved by: {approved}."
        )
    elif f.state is FreezeState.LIFTED:
        text = (
            f":sunny: {_target(f)} is unfrozen: requested by <@{f.requester}>, approved by "
            f"{', '.join(f'<@{a}>' for a in f.approvals)}. Writes are accepted again."
        )
    else:
        text = f":ice_cube: The unfreeze of {_target(f)} was cancelled; it stays frozen."
    blocks: list[Block] = [SectionBlock(block_id="unfreeze", text=MarkdownTextObject(text=text))]
    if f.state is FreezeState.UNFREEZING:
        blocks.append(
            approve_or_cancel(
                f"unfreeze_{f.id[:8]}_{f.version}",
                f.id,
                Action.APPROVE_UNFREEZE,
                Action.CANCEL_UNFREEZE,
                "Approve unfreeze",
            )
        )
    return Message(
        text=f"Unfreeze {f.target}: {f.state.value}", blocks=[b.to_dict() for b in blocks]
    )
