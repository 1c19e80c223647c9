"""The finder's answer, for Slack (mrkdwn) and for the terminal (plain text)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Action
from core.finder import Finding
from core.timeutil import fmt_instant
from usecases.render import MAX_SECTION_TEXT, Message, render_template
from usecases.render.alert import clip


def finder_text(finding: Finding, *, plain: bool) -> str:
    return render_template(
        "finder.md.j2",
        f=finding,
        totals=list(finding.damage_totals().values()),
        when=fmt_instant,
        plain=plain,
    )


def finder_message(finding: Finding, finding_id: str | None = None) -> Message:
    text = finder_text(finding, plain=False)
    chunks = _split(text)
    blocks = [
        SectionBlock(block_id=f"finder_{i}", text=MarkdownTextObject(text=chunk)).to_dict()
        for i, chunk in enumerate(chunks)
    ]
    if finding_id is not None:
        button = ButtonElement(
            text="Preview restore",
            action_id=Action.PREVIEW_RESTORE.value,
            value=finding_id,
            style="primary",
        )
        blocks.append(
            ActionsBlock(block_id=f"finding_{finding_id[:8]}", elements=[button]).to_dict()
        )
    fallback = (
        f"Restore point for {finding.table}: {fmt_instant(finding.restore_point)} "
        f"({finding.confidence})"
    )
    return Message(text=fallback, blocks=blocks, plain=finder_text(finding, plain=True))


def searching_message(table: str) -> Message:
    block = ContextBlock(
        block_id="searching",
        elements=[MarkdownTextObject(text=f":mag: Searching the history of `{table}`…")],
    )
    return Message(text=f"Searching the history of {table}…", blocks=[block.to_dict()])


def _split(text: str) -> list[str]:
    """Sections of at most Slack's 3,000 characters, cut at blank lines."""
    chunks: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        candidate = f"{current}\n\n{para}" if current else para
        if len(candidate) <= MAX_SECTION_TEXT:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = clip(para, MAX_SECTION_TEXT)
    if current:
        chunks.append(current)
    return chunks[:10]
