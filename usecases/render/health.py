"""History-health alerts: one when a condition starts, one when it clears."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from core.history_health import HealthFinding
from usecases.render import MAX_SECTION_TEXT, Message, escape_mrkdwn
from usecases.render.alert import clip

_CLEARED = {
    "short": "the history of `{t}` now reaches back far enough",
    "versioning": "`{t}` is system-versioned again",
    "partitions": "`{t}` has room in its HISTORY partitions again",
    "secure_timestamp": "secure_timestamp no longer allows forged history",
    "alter_history": "ALTER can no longer rewrite history",
}


def health_message(finding: HealthFinding) -> Message:
    kind, _, table = finding.key.partition(":")
    if finding.active:
        text = f":warning: *History health:* {escape_mrkdwn(finding.detail)}"
        plain = f"History health: {finding.detail}"
    else:
        said = _CLEARED[kind].format(t=escape_mrkdwn(table))
        text = f":white_check_mark: *History health resolved:* {said}."
        plain = f"History health resolved: {said}"
    block = SectionBlock(
        block_id="history_health", text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))
    )
    return Message(text=clip(plain, 3000), blocks=[block.to_dict()])
