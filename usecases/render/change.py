"""Schema change requests (``/vault protect``, ``/vault retention``): the request, its state,
its buttons while it is open, and the outcome line once it has run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Action
from core.approvals import PlanState
from core.protect import ProtectPlan
from core.state.changes import ChangeRecord
from core.timeutil import fmt_instant
from usecases.render import MAX_SECTION_TEXT, Message, clip_lines, escape_data, escape_mrkdwn
from usecases.render.buttons import approve_or_cancel


def megabytes(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB"


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def span(keep: timedelta) -> str:
    days = keep.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{keep.total_seconds() / 3600:g} h"


def _every(seconds: float) -> str:
    """A pass interval as people say it: ``1 h``, ``15 min``, ``30 s``."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _statement(sql: str) -> str:
    """Statements keep their backtick quoting; a name that could close the block cannot."""
    shown = escape_mrkdwn(sql)
    return escape_data(sql) if "```" in shown else shown


def _protect_lines(rec: ChangeRecord, name: str) -> list[str]:
    plan = ProtectPlan.from_json(rec.spec)
    size = plan.size
    return [
        f"*Protect `{escape_data(name)}`*: make it system-versioned so FlightVault can "
        "watch it and restore it.",
        "*Statements*",
        *(f"```{_statement(s)};```" for s in plan.statements),
        f"*Size*: ~{size.rows:,} rows · {megabytes(size.data_bytes)} data + "
        f"{megabytes(size.index_bytes)} indexes (information_schema)",
        f"*Estimate*: about {duration(plan.seconds)}. ADD SYSTEM VERSIONING rebuilds the "
        "table (ALGORITHM=COPY, LOCK=SHARED): reads go on, *writes to it wait until the copy "
        f"ends*. Estimated as {megabytes(size.total)} at {megabytes(int(plan.rate))}/s, the "
        "copy rate VAULT_PROTECT_COPY_RATE (measured by bench/protect.py).",
        f"History is then kept in invisible `{escape_data(plan.start)}`/"
        f"`{escape_data(plan.end)}` columns, with `{escape_data(plan.end)}` indexed.",
    ]


def _retention_lines(rec: ChangeRecord, name: str) -> list[str]:
    keep = timedelta(seconds=float(rec.spec["keep_seconds"]))
    how = (
        "by dropping its oldest HISTORY partitions (PARTITION BY SYSTEM_TIME INTERVAL)"
        if rec.spec["method"] == "partitions"
        else "by DELETE HISTORY … BEFORE SYSTEM_TIME in small steps"
    )
    oldest = rec.spec.get("oldest")
    interval = float(rec.spec.get("interval", 0) or 0)
    when = (
        f"once approved, then every {_every(interval)}"
        if interval
        else "once approved (VAULT_RETENTION_INTERVAL is 0, so no later pass prunes it)"
    )
    return [
        f"*Retention for `{escape_data(name)}`*: keep {span(keep)} of history, pruned "
        f"{how}, {when}. Current rows are never touched.",
        f"*Now*: history since {oldest or 'unknown'}, {int(rec.spec.get('rows', 0)):,} history "
        "rows.",
    ]


def _state_line(rec: ChangeRecord) -> str:
    approved = ", ".join(f"<@{a}>" for a in rec.approvals) or "nobody yet"
    said = {
        PlanState.REQUESTED: "requested; a second, different approver must approve",
        PlanState.EXECUTING: "running now",
        PlanState.EXECUTED: "done",
        PlanState.FAILED: "failed",
        PlanState.CANCELLED: "cancelled",
        PlanState.EXPIRED: "expired",
    }.get(rec.state, rec.state.value)
    return (
        f"*State:* {said} · requested by <@{rec.requester}> · approved by {approved} · "
        f"expires {fmt_instant(rec.expires_at)}"
    )


def change_message(rec: ChangeRecord, name: str | None = None) -> Message:
    """The request as it stands; ``name`` is the table as people see it (``schema.table``
    when several schemas are watched), ``rec.table`` by default."""
    name = name or rec.table
    lines = (_protect_lines if rec.kind == "protect" else _retention_lines)(rec, name)
    lines.append(_state_line(rec))
    if rec.outcome and rec.outcome.get("sentence"):
        lines.append(escape_data(str(rec.outcome["sentence"])))
    text = clip_lines(lines, MAX_SECTION_TEXT)
    blocks: list[Block] = [SectionBlock(block_id="change", text=MarkdownTextObject(text=text))]
    if rec.state is PlanState.REQUESTED:
        blocks.append(
            approve_or_cancel(
                f"change_{rec.id[:8]}_{rec.version}",
                rec.id,
                Action.APPROVE_CHANGE,
                Action.CANCEL_CHANGE,
            )
        )
    title = "Protect" if rec.kind == "protect" else "Retention for"
    return Message(text=f"{title} {name}: {rec.state.value}", blocks=[b.to_dict() for b in blocks])


def outcome_message(rec: ChangeRecord, sentence: str, ok: bool) -> dict[str, Any]:
    icon = ":white_check_mark:" if ok else ":x:"
    return Message(text=f"{icon} {escape_data(sentence)}").as_kwargs()


def protect_preview_text(plan: ProtectPlan, name: str | None = None) -> str:
    """``flightvault protect``: the same preview for a terminal. A terminal has no second
    person, so it only previews; the two-person request is ``/vault protect``. ``name``:
    the table as the command takes it (``schema.table`` when several schemas are watched)."""
    size = plan.size
    name = name or plan.table
    return "\n".join(
        [
            f"Protect {name}: make it system-versioned.",
            "",
            *(f"  {s};" for s in plan.statements),
            "",
            f"Size: ~{size.rows:,} rows, {megabytes(size.data_bytes)} data + "
            f"{megabytes(size.index_bytes)} indexes (information_schema).",
            f"Estimate: about {duration(plan.seconds)} ({megabytes(size.total)} at "
            f"{megabytes(int(plan.rate))}/s, VAULT_PROTECT_COPY_RATE, measured by "
            "bench/protect.py). The ALTER rebuilds the table (ALGORITHM=COPY, LOCK=SHARED): "
            "reads go on, writes wait until it ends.",
            f"Run it with two people: /vault protect {name}",
        ]
    )
