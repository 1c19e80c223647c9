"""The restore's messages: preview (with its live state), progress, outcome, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Action
from core.approvals import PlanRecord, PlanState
from core.history import TableChange
from core.plan import RestorePlan
from core.timeutil import fmt_instant
from usecases.render import (
    MAX_SECTION_TEXT,
    Message,
    clip_lines,
    escape_data,
    escape_mrkdwn,
    render_template,
    rows,
)
from usecases.render.alert import clip

_DONE = {"reinsert": "re-inserted", "revert": "reverted", "remove": "removed"}
SHOWN = 10  # damaging statements listed in a preview before "… and N more"


def _state_line(rec: PlanRecord) -> str:
    who = f"requested by <@{rec.requester}>" if rec.requester else "not requested yet"
    approved = ", ".join(f"<@{a}>" for a in rec.approvals) or "nobody yet"
    needs = max(rec.required - len(rec.approvals), 0)
    line = f"*State:* {rec.state.value} · {who} · approved by {approved}"
    if rec.state is PlanState.REQUESTED:
        line += f" · needs {needs} more approval{'s' if needs != 1 else ''} from a different person"
    return line


def _buttons(rec: PlanRecord) -> ActionsBlock | None:
    if rec.state is PlanState.PREVIEWED:
        main = ButtonElement(
            text="Request restore",
            action_id=Action.REQUEST_RESTORE.value,
            value=rec.id,
            style="primary",
        )
    elif rec.state is PlanState.REQUESTED:
        main = ButtonElement(
            text="Approve", action_id=Action.APPROVE_RESTORE.value, value=rec.id, style="primary"
        )
    else:
        return None
    stop = ButtonElement(text="Cancel", action_id=Action.CANCEL_RESTORE.value, value=rec.id)
    return ActionsBlock(block_id=f"plan_{rec.state.value}_{rec.id[:8]}", elements=[main, stop])


@dataclass(frozen=True, slots=True)
class _Statement:
    instant: datetime
    transaction_id: int | None
    kind: str
    parts: list[str]


def _kind(change: TableChange | None) -> str:
    if change is None:
        return "statement"
    if change.deleted and change.inserted:
        return "key change"
    if change.deleted:
        return "delete"
    if change.updated:
        return "update"
    return "insert" if change.inserted else "statement"


def _part(c: TableChange) -> str:
    did = [
        f"{n:,} {verb}"
        for n, verb in ((c.deleted, "deleted"), (c.updated, "updated"), (c.inserted, "inserted"))
        if n
    ]
    return f"`{escape_data(c.table)}` {', '.join(did) or 'rewritten unchanged'}"


def _statements(plan: RestorePlan) -> list[_Statement]:
    return [
        _Statement(
            e.instant,
            e.transaction_id,
            _kind(e.for_table(plan.table)),
            [_part(c) for c in e.changes],
        )
        for e in plan.statements
    ]


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(
        block_id=block_id, text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))
    )


def preview_message(rec: PlanRecord) -> Message:
    p = rec.plan
    context = {"p": p, "when": fmt_instant, "expires": rec.expires_at}
    head = render_template(
        "preview.md.j2", kind=rec.kind, statements=_statements(p), shown=SHOWN, **context
    )
    blocks: list[Block] = [
        _section("preview", head),
        _section("preview_tables", render_template("preview_tables.md.j2", **context)),
        _section("preview_checks", render_template("preview_checks.md.j2", **context)),
        SectionBlock(block_id="plan_state", text=MarkdownTextObject(text=_state_line(rec))),
    ]
    if (buttons := _buttons(rec)) is not None:
        blocks.append(buttons)
    text = (
        f"Restore preview for {p.table}: {rows(p.rows)}, fingerprint {p.fingerprint}, "
        f"{rec.state.value}"
    )
    return Message(text=text, blocks=[b.to_dict() for b in blocks])


def progress_message(done: int, total: int, table: str) -> Message:
    width = 20
    filled = round(width * done / max(total, 1))
    bar = "█" * filled + "░" * (width - filled)
    text = f"Restoring… `{bar}` step {done}/{total} (`{escape_data(table)}`)"
    block = ContextBlock(block_id="progress", elements=[MarkdownTextObject(text=text)])
    return Message(text=f"Restoring: step {done} of {total}", blocks=[block.to_dict()])


def outcome_message(rec: PlanRecord, outcome: dict[str, Any]) -> Message:
    took = f"{outcome['seconds'] * 1000:.0f} ms, checks {outcome['check_seconds'] * 1000:.0f} ms"
    lines = [
        f":white_check_mark: *Restored `{escape_data(rec.table)}`* in one transaction ({took})"
    ]
    for table, actions in outcome["rows"].items():
        parts = ", ".join(f"{rows(n)} {_DONE[a]}" for a, n in actions.items())
        lines.append(f"• `{escape_data(table)}`: {parts}")
    checked = [
        f"Verified: {rows(outcome.get('verified', 0))} equal their versions at "
        f"`{fmt_instant(rec.plan.restore_point)}`, checked row by row against history; "
        f"fingerprint `{rec.plan.fingerprint}`."
    ]
    if outcome["conflicts"]:
        checked.insert(
            0, f"{rows(outcome['conflicts'])} skipped, as previewed (conflicts, kept back)."
        )
    blocks: list[Block] = [
        _section("outcome", clip_lines(lines)),
        _section("outcome_verified", " ".join(checked)),
    ]
    if rec.kind == "restore":
        undo = ButtonElement(text="Undo restore", action_id=Action.UNDO_RESTORE.value, value=rec.id)
        blocks.append(ActionsBlock(block_id=f"undo_{rec.id[:8]}", elements=[undo]))
    return Message(text=f"Restored {rec.table}", blocks=[b.to_dict() for b in blocks])


def failure_message(rec: PlanRecord, sentence: str, finding_id: str | None) -> Message:
    blocks: list[Block] = [
        SectionBlock(
            block_id="failure",
            text=MarkdownTextObject(
                text=clip(
                    f":x: *Restore of `{escape_data(rec.table)}` did not run.* "
                    f"{escape_mrkdwn(sentence)}",
                    MAX_SECTION_TEXT,
                )
            ),
        )
    ]
    if finding_id:
        blocks.append(
            ActionsBlock(
                block_id=f"again_{rec.id[:8]}",
                elements=[
                    ButtonElement(
                        text="Preview again",
                        action_id=Action.PREVIEW_RESTORE.value,
                        value=finding_id,
                    )
                ],
            )
        )
    return Message(
        text=f"Restore of {rec.table} did not run: {sentence}", blocks=[b.to_dict() for b in blocks]
    )


def audit_message(entries: list[dict[str, Any]], scope: str) -> Message:
    if not entries:
        return Message(text=f"No audit entries for {scope} yet.")
    lines = [f"*Audit trail for {escape_mrkdwn(scope)}* (UTC)"]
    for e in entries:
        fp = f" `{e['fingerprint']}`" if e.get("fingerprint") else ""
        lines.append(
            f"`{fmt_instant(e['at'])}` <@{e['actor']}> *{e['action']}*{fp}: "
            f"{escape_mrkdwn(e['detail'])}"
        )
    text = clip("\n".join(lines), MAX_SECTION_TEXT)
    block = SectionBlock(block_id="audit", text=MarkdownTextObject(text=text))
    return Message(text=f"Audit trail for {scope}", blocks=[block.to_dict()])


def _mention(who: str) -> str:
    return f"<!subteam^{who}>" if who.startswith("S") else f"<@{who}>"


def reminder_message(rec: PlanRecord, approvers: list[str]) -> Message:
    others = [a for a in approvers if a != rec.requester and a not in rec.approvals]
    text = (
        f":alarm_clock: *Reminder:* <@{rec.requester}> asked to restore "
        f"`{escape_data(rec.table)}` ({rows(rec.plan.rows)}, fingerprint "
        f"`{rec.plan.fingerprint}`) and it still needs approval from a different person: "
        f"{' '.join(_mention(a) for a in others) or 'another approver'}. "
        f"It expires at {fmt_instant(rec.expires_at)}; approve or cancel it on the preview above."
    )
    block = SectionBlock(block_id="reminder", text=MarkdownTextObject(text=text))
    return Message(
        text=f"Reminder: the restore of {rec.table} needs approval", blocks=[block.to_dict()]
    )


def expiry_message(rec: PlanRecord) -> Message:
    text = (
        f":hourglass: The restore of `{escape_data(rec.table)}` requested by "
        f"<@{rec.requester}> expired at {fmt_instant(rec.expires_at)} without the approval it "
        "needed. Nothing changed; run `/vault find` and preview it again to start over."
    )
    block = SectionBlock(block_id="expired", text=MarkdownTextObject(text=text))
    return Message(text=f"The restore of {rec.table} expired unapproved", blocks=[block.to_dict()])
