"""The restore's messages: preview (with its live state), progress, outcome, audit."""

from __future__ import annotations

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
from bot.render import MAX_SECTION_TEXT, Message, escape_mrkdwn, render_template, rows
from bot.render.alert import clip
from core.approvals import PlanRecord, PlanState
from core.timeutil import fmt_instant

_DONE = {"reinsert": "re-inserted", "revert": "reverted", "remove": "removed"}


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


def preview_message(rec: PlanRecord) -> Message:
    p = rec.plan
    statements = len({s.instant for s in p.steps})
    body = render_template(
        "preview.md.j2",
        p=p,
        kind=rec.kind,
        statements=statements,
        when=fmt_instant,
        expires=rec.expires_at,
    )
    blocks: list[Block] = [
        SectionBlock(
            block_id="preview", text=MarkdownTextObject(text=clip(body, MAX_SECTION_TEXT))
        ),
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
    text = f"Restoring… `{bar}` step {done}/{total} (`{escape_mrkdwn(table)}`)"
    block = ContextBlock(block_id="progress", elements=[MarkdownTextObject(text=text)])
    return Message(text=f"Restoring: step {done} of {total}", blocks=[block.to_dict()])


def outcome_message(rec: PlanRecord, outcome: dict[str, Any]) -> Message:
    took = f"{outcome['seconds'] * 1000:.0f} ms, checks {outcome['check_seconds'] * 1000:.0f} ms"
    lines = [
        f":white_check_mark: *Restored `{escape_mrkdwn(rec.table)}`* in one transaction ({took})"
    ]
    for table, actions in outcome["rows"].items():
        parts = ", ".join(f"{rows(n)} {_DONE[a]}" for a, n in actions.items())
        lines.append(f"• `{escape_mrkdwn(table)}`: {parts}")
    if outcome["conflicts"]:
        lines.append(f"• {rows(outcome['conflicts'])} in conflict were skipped, as previewed")
    lines.append(f"Validated: counts match the plan; fingerprint `{rec.plan.fingerprint}`.")
    text = "\n".join(lines)
    blocks: list[Block] = [SectionBlock(block_id="outcome", text=MarkdownTextObject(text=text))]
    if rec.kind == "restore":
        undo = ButtonElement(text="Undo restore", action_id=Action.UNDO_RESTORE.value, value=rec.id)
        blocks.append(ActionsBlock(block_id=f"undo_{rec.id[:8]}", elements=[undo]))
    return Message(text=f"Restored {rec.table}", blocks=[b.to_dict() for b in blocks])


def failure_message(rec: PlanRecord, sentence: str, finding_id: str | None) -> Message:
    blocks: list[Block] = [
        SectionBlock(
            block_id="failure",
            text=MarkdownTextObject(
                text=f":x: *Restore of `{escape_mrkdwn(rec.table)}` did not run.* "
                f"{escape_mrkdwn(sentence)}"
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
        f"`{escape_mrkdwn(rec.table)}` ({rows(rec.plan.rows)}, fingerprint "
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
        f":hourglass: The restore of `{escape_mrkdwn(rec.table)}` requested by "
        f"<@{rec.requester}> expired at {fmt_instant(rec.expires_at)} without the approval it "
        "needed. Nothing changed; run `/vault find` and preview it again to start over."
    )
    block = SectionBlock(block_id="expired", text=MarkdownTextObject(text=text))
    return Message(text=f"The restore of {rec.table} expired unapproved", blocks=[block.to_dict()])
