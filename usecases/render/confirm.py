"""The typed confirmation asked of whoever approves a large restore."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View as Modal

from bot.ids import View
from core.approvals import PlanRecord
from usecases.render import escape_data, rows

CONFIRM_BLOCK = "confirm"
CONFIRM_INPUT = "typed"


def confirm_modal(rec: PlanRecord, threshold: int) -> Modal:
    """Cancelling (closing) it sends nothing back, so it changes nothing."""
    summary = ", ".join(
        f"`{escape_data(t.table)}` {t.reinsert + t.revert + t.remove:,}" for t in rec.plan.tables
    )
    return Modal(
        type="modal",
        callback_id=View.CONFIRM_RESTORE.value,
        private_metadata=rec.id,
        title="Confirm restore",
        submit="Approve restore",
        close="Cancel",
        blocks=[
            SectionBlock(
                block_id="warning",
                text=MarkdownTextObject(
                    text=f":warning: This restore writes *{rows(rec.plan.rows)}* ({summary}), "
                    f"more than the {threshold:,} that can be approved with one click. It was "
                    f"requested by <@{rec.requester}>; fingerprint `{rec.plan.fingerprint}`."
                ),
            ),
            InputBlock(
                block_id=CONFIRM_BLOCK,
                label=f"Type the table name, {rec.table}, to approve",
                element=PlainTextInputElement(action_id=CONFIRM_INPUT, placeholder=rec.table[:150]),
            ),
        ],
    )
