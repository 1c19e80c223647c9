"""Restore drill messages: a pass with its counts and timings, or a failure."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from core.drill import DrillResult
from core.timeutil import fmt_instant
from usecases.render import MAX_SECTION_TEXT, Message, escape_data, escape_mrkdwn, render_template
from usecases.render.alert import clip


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def drill_message(result: DrillResult) -> Message:
    text = render_template("drill.md.j2", r=result, when=fmt_instant, ms=_ms)
    block = SectionBlock(
        block_id="drill", text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))
    )
    return Message(
        text=f"Restore drill on {result.table} passed: {result.rows:,} rows written, rolled back",
        blocks=[block.to_dict()],
    )


def drill_failure_message(table: str, sentence: str, *, scheduled: bool) -> Message:
    kind = "Scheduled restore drill" if scheduled else "Restore drill"
    text = (
        f":x: *{kind} on `{escape_data(table)}` failed:* {escape_mrkdwn(sentence)} "
        "A real restore would fail the same way; nothing was written."
    )
    block = SectionBlock(
        block_id="drill_failed", text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))
    )
    return Message(text=f"{kind} on {table} failed: {sentence}", blocks=[block.to_dict()])
