"""The approve-or-cancel pair every two-person request shows while it waits."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.ids import Action


def approve_or_cancel(
    block_id: str, record_id: str, approve: Action, cancel: Action, approve_text: str = "Approve"
) -> ActionsBlock:
    """Both buttons carry only the record's opaque ID; ``block_id`` names the version, so
    a click on a message older than the record is recognisable."""
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=approve_text, action_id=approve.value, value=record_id, style="primary"
            ),
            ButtonElement(text="Cancel", action_id=cancel.value, value=record_id),
        ],
    )
