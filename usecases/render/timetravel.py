"""``/vault at``: the table at an instant, the diff to now, and buttons to step through events."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)
from tabulate import tabulate

from bot.ids import Action
from core.history import RowChange, RowKind
from core.sample import shorten
from core.timetravel import TimeTravel
from core.timeutil import fmt_instant
from usecases.render import MAX_SECTION_TEXT, Message, escape_data, render_template
from usecases.render.alert import clip

_LABEL = {
    RowKind.DELETED: "deleted",
    RowKind.INSERTED: "inserted",
    RowKind.UPDATED: "changed",
    RowKind.UNCHANGED: "same",
}


def _sample_line(change: RowChange) -> list[str]:
    image = change.before or change.after or {}
    key = escape_data(", ".join(shorten(v, 20) for v in change.key))
    if change.kind is RowKind.UPDATED and change.after is not None and change.before is not None:
        detail = "; ".join(
            f"{c}: {shorten(change.before[c], 15)} → {shorten(change.after[c], 15)}"
            for c in change.changed_columns[:3]
        )
    else:
        detail = ", ".join(f"{k}={shorten(v, 15)}" for k, v in list(image.items())[:4])
    return [_LABEL[change.kind], key, escape_data(detail)]


def timetravel_message(t: TimeTravel, view_id: str) -> Message:
    text = render_template("timetravel.md.j2", t=t, when=fmt_instant)
    blocks: list[Block] = [SectionBlock(block_id="travel", text=MarkdownTextObject(text=text))]
    if t.diff.samples:
        table = tabulate(
            [_sample_line(s) for s in t.diff.samples],
            headers=["change", "key", "values"],
            tablefmt="plain",
            disable_numparse=True,
        )
        sample = "*Sample*\n```" + clip(table, MAX_SECTION_TEXT - 20) + "```"
        blocks.append(SectionBlock(block_id="travel_sample", text=MarkdownTextObject(text=sample)))
    buttons = []
    if t.previous is not None:
        buttons.append(
            ButtonElement(
                text="◀ Previous change", action_id=Action.TRAVEL_PREVIOUS.value, value=view_id
            )
        )
    if t.next is not None:
        buttons.append(
            ButtonElement(text="Next change ▶", action_id=Action.TRAVEL_NEXT.value, value=view_id)
        )
    if t.diff.deleted or t.diff.inserted or t.diff.changed:
        buttons.append(
            ButtonElement(
                text="Preview restore to here",
                action_id=Action.PREVIEW_TO_HERE.value,
                value=view_id,
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=f"travel_nav_{view_id[:8]}", elements=buttons))
    fallback = (
        f"{t.table} at {fmt_instant(t.instant)}: {t.rows_then:,} rows then, {t.rows_now:,} now"
    )
    return Message(text=fallback, blocks=[b.to_dict() for b in blocks])
