"""History-health digests: one message per kind of condition, listing every table in it.

A deployment watching a thousand tables must not post a thousand alerts when a
condition holds for all of them: the digest says once what the condition means and
what to do, then lists the tables (as many as fit, then "… and N more"). It is
edited in place as tables join or leave, and says "all clear" when none is left.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from core.history_health import SERVER
from usecases.render import MAX_SECTION_TEXT, Message, clip_lines, escape_mrkdwn
from usecases.render.alert import clip

# kind -> (title, what it means for {n} tables and what to do, what "all clear" means)
_KINDS: dict[str, tuple[str, str, str]] = {
    "short": (
        "short history",
        "The history of {n} reaches back less than VAULT_HISTORY_MIN asks: restores can go "
        "no further back (DELETE HISTORY, dropped partitions, or young tables).",
        "every watched table's history reaches back far enough again",
    ),
    "versioning": (
        "versioning dropped",
        "{n} no longer system-versioned (ALTER TABLE … DROP SYSTEM VERSIONING?): their "
        "history is gone and no more is written, so they cannot be restored. Add versioning "
        "back with ALTER TABLE … ADD SYSTEM VERSIONING.",
        "every watched table is system-versioned again",
    ),
    "partitions": (
        "HISTORY partitions nearly full",
        "The last HISTORY partition of {n} partitioned BY SYSTEM_TIME is nearly full or "
        "nearly past its interval; after that history piles into it. Add HISTORY partitions "
        "(ALTER TABLE … ADD PARTITION) or use INTERVAL … AUTO.",
        "every partitioned table has room in its HISTORY partitions again",
    ),
    "drill": (
        "scheduled restore drills failing",
        "The scheduled restore drill failed for {n}: a real restore would fail the same way. "
        "Nothing was written.",
        "every scheduled restore drill passes again",
    ),
    SERVER: (
        "history can be forged or rewritten",
        "The server's settings let history be changed after the fact:",
        "the server's settings no longer let history be forged or rewritten",
    ),
}


def _tables(n: int) -> str:
    return "1 table" if n == 1 else f"{n:,} tables"


def digest_message(kind: str, lines: list[str]) -> Message:
    """The digest of ``kind`` listing ``lines`` (one per table, or per server setting);
    none: all clear. Block Kit limits hold for any number of lines."""
    title, meaning, cleared = _KINDS.get(kind, (kind, "{n} affected.", "all clear"))
    if not lines:
        said = cleared[0].upper() + cleared[1:]
        text = f":white_check_mark: *History health: {title}: all clear.* {said}."
        block = SectionBlock(block_id=f"digest_{kind}_clear", text=MarkdownTextObject(text=text))
        return Message(text=f"History health: {title}: all clear", blocks=[block.to_dict()])
    n = f"{len(lines)} settings" if kind == SERVER else _tables(len(lines))
    head = f":warning: *History health: {title}.* {meaning.format(n=n)}"
    listed = clip_lines([f"• {escape_mrkdwn(line)}" for line in lines], MAX_SECTION_TEXT)
    blocks = [
        SectionBlock(block_id=f"digest_{kind}", text=MarkdownTextObject(text=clip(head, 3000))),
        SectionBlock(block_id=f"digest_{kind}_list", text=MarkdownTextObject(text=listed)),
        ContextBlock(
            block_id=f"digest_{kind}_note",
            elements=[
                MarkdownTextObject(
                    text="FlightVault edits this message as tables join or leave the list."
                )
            ],
        ),
    ]
    plain = f"History health: {title}: {n}: " + "; ".join(lines[:5])
    return Message(text=clip(plain, 3000), blocks=[b.to_dict() for b in blocks])


SEVERE = frozenset({"versioning", "drill", SERVER})  # a joiner is broadcast to the channel
_JOINED_SHOWN = 10


def joined_message(kind: str, lines: list[str]) -> Message:
    """The short reply under a digest naming what joined it since it was last rendered:
    Slack does not notify on an edit, so without it a new problem would arrive silently.
    One reply however many joined (the first few named, then "… and N more")."""
    title = _KINDS.get(kind, (kind, "", ""))[0]
    shown = [f"• {escape_mrkdwn(clip(line, 200))}" for line in lines[:_JOINED_SHOWN]]
    more = len(lines) - _JOINED_SHOWN
    rest = [f"… and {more:,} more (listed above)"] if more > 0 else []
    icon = ":rotating_light:" if kind in SEVERE else ":warning:"
    text = clip("\n".join([f"{icon} *Now also in {title}:*", *shown, *rest]), MAX_SECTION_TEXT)
    block = SectionBlock(block_id=f"digest_{kind}_joined", text=MarkdownTextObject(text=text))
    plain = (
        f"Now also in {title}: "
        + "; ".join(lines[:5])
        + (f" … and {more:,} more" if more > 0 else "")
    )
    return Message(text=clip(plain, 3000), blocks=[block.to_dict()])


def named(schema: str, detail: str) -> str:
    """A condition's line naming its table as ``schema.table`` when several are watched."""
    if schema and detail.startswith("`"):
        return f"`{schema}.{detail[1:]}"
    return detail
