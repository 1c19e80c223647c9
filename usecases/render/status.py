"""``/vault status``: what is watched, how far back history reaches, what is open."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from core.approvals import PlanRecord
from core.retention import HistoryWindow
from core.state.changes import Retention
from core.state.freezes import Freeze
from core.state.incidents import Incident
from core.state.outbox import DeadLetter
from core.timeutil import fmt_instant
from usecases.render import MAX_SECTION_TEXT, Message, escape_data, escape_mrkdwn
from usecases.render.alert import clip


def status_message(
    tables: list[tuple[str, datetime | None, bool]],
    incidents: list[Incident],
    plans: list[PlanRecord],
    last_read: datetime | None,
    freezes: Sequence[Freeze] = (),
    conditions: dict[str, str] | None = None,
    dead: Sequence[DeadLetter] = (),
    windows: Sequence[tuple[HistoryWindow, Retention | None]] = (),
) -> Message:
    lines = ["*Watched tables* (history since, UTC)"]
    for name, since, watched in tables:
        window = fmt_instant(since) if since else "unknown"
        flag = "" if watched else " _(unwatched)_"
        lines.append(f"• `{escape_data(name)}`: {window}{flag}")
    lines += _windows(windows)
    lines.append(f"*Open incidents:* {len(incidents) or 'none'}")
    lines += [
        f"• `{i.id[:8]}` `{escape_data(i.table)}`: {i.summary.deleted:,} deleted, "
        f"{i.status.value}, since {fmt_instant(i.first_instant)}"
        for i in incidents
    ]
    lines.append(f"*Pending restore plans:* {len(plans) or 'none'}")
    lines += [
        f"• `{p.plan.fingerprint}` on `{escape_data(p.table)}`: {p.state.value}, "
        f"expires {fmt_instant(p.expires_at)}"
        for p in plans
    ]
    lines.append(f"*Frozen:* {len(freezes) or 'nothing'}")
    lines += [
        f"• {escape_mrkdwn(f.target)} since {fmt_instant(f.frozen_at)} by <@{f.frozen_by}>"
        + (f" (unfreeze requested by <@{f.requester}>)" if f.requester else "")
        for f in freezes
    ]
    standing = conditions or {}
    lines.append(f"*History health:* {len(standing) or 'no'} standing warnings")
    lines += [f"• {escape_mrkdwn(detail)}" for detail in standing.values()]
    lines.append(f"*Undeliverable messages:* {len(dead) or 'none'}")
    lines += [
        f"• {d.kind} at {fmt_instant(d.at)}: Slack said `{escape_data(d.error)}`"
        + (f" (incident `{d.incident_id[:8]}`)" if d.incident_id else "")
        for d in dead[:5]
    ]
    read = fmt_instant(last_read) if last_read else "never"
    lines.append(f"*Last history read:* {read}")
    text = clip("\n".join(lines), MAX_SECTION_TEXT)
    block = SectionBlock(block_id="status", text=MarkdownTextObject(text=text))
    return Message(
        text=f"FlightVault status: {len(incidents)} open incidents", blocks=[block.to_dict()]
    )


def _windows(windows: Sequence[tuple[HistoryWindow, Retention | None]]) -> list[str]:
    """Each table's recovery window: history since, its size, and how long it is kept."""
    if not windows:
        return []
    lines = ["*History windows* (since · history rows · size · retention)"]
    for w, kept in windows:
        since = fmt_instant(w.oldest) if w.oldest else "no history yet"
        size = f"{w.bytes / 1_000_000:,.1f} MB" + ("" if w.exact_bytes else " (est.)")
        if kept is None:
            rule = "kept forever (no retention set)"
        else:
            rule = f"keep {kept.keep_seconds / 86400:g} days ({kept.method})"
            if kept.pruned_at:
                rule += f", last pruned {fmt_instant(kept.pruned_at)}"
        lines.append(f"• `{escape_data(w.table)}`: {since} · {w.rows:,} rows · {size} · {rule}")
    return lines
