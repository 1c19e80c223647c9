"""The incident alert (root message), its follow-ups, and the button answers.

All are rendered from the incident's stored summary, so the root message can
be re-rendered at any time and always shows the current truth.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from tabulate import tabulate

from bot.ids import Action
from core.state.freezes import Freeze
from core.state.incidents import Incident, IncidentStatus
from core.summary import IncidentSummary
from core.timeutil import fmt_instant
from usecases.render import MAX_SECTION_TEXT, Message, escape_data, escape_mrkdwn, render_template
from usecases.render.freeze import root_line

MAX_HEADER = 150
STATUS_ICON = {
    IncidentStatus.OPEN: ":rotating_light:",
    IncidentStatus.RESTORE_PENDING: ":hourglass_flowing_sand:",
    IncidentStatus.RESTORED: ":white_check_mark:",
    IncidentStatus.DISMISSED: ":zzz:",
}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(iso: str) -> str:
    return fmt_instant(datetime.fromisoformat(iso))


def what_happened(summary: IncidentSummary) -> str:
    parts = []
    if summary.deleted:
        parts.append(f"{summary.deleted:,} rows deleted")
    if summary.updated:
        parts.append(f"{summary.updated:,} rows changed")
    return " and ".join(parts) or "rows changed"


def _section(text: str, block_id: str) -> SectionBlock:
    return SectionBlock(
        block_id=block_id, text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))
    )


def _sample_block(summary: IncidentSummary) -> SectionBlock | None:
    sample = summary.sample
    if not sample.rows:
        return None
    safe = [[escape_data(v) for v in row] for row in sample.rows]
    heads = [escape_data(c) for c in sample.columns]
    table = tabulate(safe, headers=heads, tablefmt="plain", disable_numparse=True)
    more = f"\n… and {sample.more:,} more" if sample.more else ""
    title = "*Deleted rows (sample)*" if summary.deleted else "*Changed rows (sample)*"
    budget = MAX_SECTION_TEXT - len(title) - len(more) - 10
    return _section(f"{title}\n```{clip(table, budget)}```{more}", "sample")


def alert_message(
    incident: Incident, freeze: Freeze | None = None, *, schema: str | None = None
) -> Message:
    """``freeze``: the freeze covering the incident's table, shown until it is lifted.
    ``schema``: named when several schemas are watched (the table alone would be ambiguous)."""
    s = incident.summary
    named = f"{schema}.{s.table}" if schema else s.table
    table = escape_mrkdwn(named)
    icon = STATUS_ICON[incident.status]
    where = "from" if s.deleted else "in"
    header = clip(f"{icon} {what_happened(s)} {where} {named}", MAX_HEADER)
    fields = [
        f"*Table*\n`{table}`",
        f"*Rows*\n{what_happened(s)} ({s.share:.2%} of {s.rows_before:,})",
        f"*Instant*\n`{_when(s.instant)}`",
        f"*Anomaly score*\n{s.score}/100: {escape_mrkdwn(s.reason)}",
        f"*Statements*\n{s.statements}"
        + (f" (last at `{_when(s.last_instant)}`)" if s.statements > 1 else ""),
        f"*Status*\n{incident.status.value}",
    ]
    blocks: list[Block] = [
        HeaderBlock(block_id="header", text=PlainTextObject(text=header, emoji=True)),
        SectionBlock(
            block_id="facts", fields=[MarkdownTextObject(text=clip(f, 2000)) for f in fields]
        ),
        _section(render_template("alert_impact.md.j2", impact=s.impact), "impact"),
    ]
    if freeze is not None:
        blocks.insert(2, _section(root_line(freeze), "freeze"))
    if (sample := _sample_block(s)) is not None:
        blocks.append(sample)
    if incident.status in (IncidentStatus.OPEN, IncidentStatus.RESTORE_PENDING):
        blocks.append(_buttons(incident.id))
    blocks.append(
        ContextBlock(
            block_id="context",
            elements=[
                MarkdownTextObject(
                    text=f"Incident `{incident.id[:8]}` · FlightVault · all times UTC · "
                    "follow-ups in this thread"
                )
            ],
        )
    )
    text = (
        f"FlightVault: {what_happened(s)} {where} {named} at {_when(s.instant)} "
        f"(score {s.score}/100, {incident.status.value})"
    )
    return Message(text=text, blocks=[b.to_dict() for b in blocks])


def _buttons(incident_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id="incident_actions",
        elements=[
            ButtonElement(
                text="Find restore point",
                action_id=Action.FIND_RESTORE_POINT.value,
                value=incident_id,
                style="primary",
            ),
            ButtonElement(
                text="Show full diff", action_id=Action.SHOW_FULL_DIFF.value, value=incident_id
            ),
        ],
    )


def growth_message(incident: Incident) -> Message:
    s = incident.summary
    text = render_template(
        "alert_growth.md.j2",
        deleted=s.deleted,
        updated=s.updated,
        statements=s.statements,
        last_instant=_when(s.last_instant),
    )
    return Message(text=text, blocks=[_section(text, "growth").to_dict()])


def full_diff_message(
    incident: Incident, per_table: dict[str, tuple[int, int]], files: int
) -> Message:
    lines = [f"*Full diff for incident `{incident.id[:8]}`*"]
    lines += [
        f"• `{escape_data(t)}`: {d:,} deleted, {u:,} updated" for t, (d, u) in per_table.items()
    ]
    lines.append(f"The before-images are attached as {files} CSV file(s)." if files else "")
    text = "\n".join(line for line in lines if line)
    return Message(
        text=f"Full diff for incident {incident.id[:8]}",
        blocks=[_section(text, "full_diff").to_dict()],
    )
