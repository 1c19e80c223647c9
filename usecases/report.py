"""The incident report: a Markdown postmortem drawn from the audit trail.

The timeline *is* the audit trail for the incident (plus the damage's own
instant from the history), so the report can never tell a different story
from ``/vault audit``. Slack gets it as a file in the incident's thread; the
CLI prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from core.approvals import PlanRecord
from core.catalogue import load_catalogue
from core.errors import InvalidInput
from core.finder import LossWindow, loss_window
from core.history import server_now
from core.state.incidents import Incident
from core.state.store import StateStore
from core.timeutil import ONE_MICROSECOND
from usecases.context import Context
from usecases.port import Port, Thread, Upload
from usecases.render import render_template
from usecases.render.alert import what_happened


@dataclass(frozen=True)
class Report:
    incident: Incident
    markdown: str
    timeline: list[dict[str, Any]]

    @property
    def filename(self) -> str:
        return f"incident-{self.incident.id[:8]}-report.md"


def ms(value: datetime) -> str:
    """To the millisecond, as a postmortem wants."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _span(delta: timedelta | None) -> str:
    if delta is None:
        return "n/a"
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def pick_incident(store: StateStore, source: str, prefix: str | None) -> Incident:
    if prefix:
        incident = store.incidents.by_prefix(prefix[:32])
        if incident is None:
            raise InvalidInput(
                f"No single incident starts with `{prefix[:32]}`; use the 8-character ID from "
                "its alert, e.g. `/vault report 240475df`."
            )
        return incident
    incident = store.incidents.latest(source=source)
    if incident is None:
        raise InvalidInput("There are no incidents yet, so there is nothing to report.")
    return incident


def build_report(store: StateStore, incident: Incident, engine: Engine | None = None) -> Report:
    trail = store.audit.trail(incident_id=incident.id, limit=None)
    plans = store.plans.for_incident(incident.id)
    timeline = [
        {
            "at": incident.first_instant,
            "actor": "database",
            "action": "damage committed",
            "detail": f"first damaging statement on {incident.table}",
        },
        *trail,
    ]
    timeline.sort(key=lambda e: e["at"])
    first: dict[str, Any] = {}
    for e in trail:
        first.setdefault(e["action"], e["at"])
    alert, executed = first.get("alert posted"), first.get("executed")
    figures = {
        "detect": _span(alert - incident.first_instant if alert else None),
        "restore": _span(executed - incident.first_instant if executed else None),
        "alert_to_restore": _span(executed - alert if executed and alert else None),
    }
    people: dict[str, list[str]] = {}
    for e in trail:
        actions = people.setdefault(e["actor"], [])
        if e["action"] not in actions:
            actions.append(e["action"])
    markdown = render_template(
        "report.md.j2",
        i=incident,
        s=incident.summary,
        what=what_happened(incident.summary),
        generated=datetime.now(UTC),
        ms=ms,
        figures=figures,
        timeline=timeline,
        impact=_impact(incident),
        loss=_loss(incident, executed, _restore_started(plans), engine),
        plans=[_plan(p) for p in plans],
        people=people,
    )
    return Report(incident, markdown + "\n", timeline)


def _impact(incident: Incident) -> list[dict[str, str]]:
    s = incident.summary
    rows = [{"table": incident.table, "text": what_happened(s) + " by the damaging statements"}]
    for i in s.impact:
        parts = []
        if i.cascaded:
            parts.append(f"{i.cascaded:,} rows removed by ON DELETE CASCADE")
        elif not i.versioned:
            parts.append("cascaded rows unrecoverable: the table keeps no history")
        if i.dangling:
            parts.append(f"{i.dangling:,} rows left pointing at deleted keys")
        rows.append({"table": i.table, "text": "; ".join(parts) + f" (via {i.via})"})
    return rows


def _restore_started(plans: list[PlanRecord]) -> datetime | None:
    """When the first restore began writing (server time): later statements end there."""
    for p in plans:
        if p.kind == "restore" and p.outcome:
            return datetime.fromisoformat(p.outcome["started"])
    return None


def _loss(
    incident: Incident,
    executed: datetime | None,
    restore_started: datetime | None,
    engine: Engine | None,
) -> dict[str, Any]:
    end = executed or datetime.now(UTC)
    span = _span(end - incident.first_instant)
    missing = (
        f"Rows were missing from {ms(incident.first_instant)} until the restore committed at "
        f"{ms(executed)}: {span}."
        if executed
        else f"Rows have been missing since {ms(incident.first_instant)} ({span} so far); "
        "no restore has run."
    )
    later = None
    if engine is not None:
        with engine.connect() as conn:
            catalogue = load_catalogue(conn)
            table = catalogue.tables.get(incident.table)
            if table is not None and table.period is not None:
                w = loss_window(
                    conn,
                    catalogue,
                    table,
                    after=incident.last_instant + ONE_MICROSECOND,
                    now=(restore_started - ONE_MICROSECOND)
                    if restore_started
                    else server_now(conn),
                )
                later = _later(w, incident.table, executed is not None)
    return {"missing": missing, "later": later}


def _later(w: LossWindow, table: str, executed: bool) -> str:
    """The report's sentence on later writes; honest when inserts were not counted."""
    until = "the restore" if executed else "now"
    if not w.inserts_counted:
        return (
            f"Between the damage and {until}, {w.statements:,} later statements updated or"
            f" deleted rows of `{table}` ({w.updated:,} updated, {w.deleted:,} deleted), plus"
            " any rows inserted since (not counted: `row_start` has no index and the table is"
            " large): a whole-table point-in-time restore would have undone them; the surgical"
            " restore keeps them."
        )
    return (
        f"Between the damage and {until}, {w.statements:,} later statements wrote `{table}` "
        f"({w.inserted:,} inserted, {w.updated:,} updated, {w.deleted:,} deleted): "
        "a whole-table point-in-time restore would have undone them; the surgical "
        "restore keeps them."
    )


def _plan(p: PlanRecord) -> dict[str, Any]:
    written = None
    if p.outcome:
        total = sum(sum(a.values()) for a in p.outcome["rows"].values())
        written = f"{total:,} rows in {p.outcome['seconds'] * 1000:,.0f} ms"
    return {
        "kind": p.kind,
        "fingerprint": p.plan.fingerprint,
        "table": p.table,
        "state": p.state.value,
        "requester": p.requester,
        "approvals": list(p.approvals),
        "written": written,
    }


def _pick(ctx: Context, prefix: str | None) -> Incident:
    """The named incident, else the latest of any watched schema."""
    if prefix or not ctx.several:
        return pick_incident(ctx.store, ctx.source, prefix)
    latest = [ctx.store.incidents.latest(source=v.source) for v in ctx.views()]
    found = [i for i in latest if i is not None]
    if not found:
        return pick_incident(ctx.store, ctx.source, prefix)  # says there are none
    return max(found, key=lambda i: i.first_instant)


def post_report(ctx: Context, out: Port, prefix: str | None, *, channel: str) -> Report:
    """The report as a file in the incident's thread (or ``channel`` if it has none)."""
    incident = _pick(ctx, prefix)
    made = build_report(ctx.store, incident, ctx.for_source(incident.source).engine)
    thread = Thread(incident.channel, incident.root_ts) if incident.channel else Thread(channel)
    out.upload(
        thread,
        Upload(made.filename, f"Incident {incident.id[:8]} report", content=made.markdown),
        comment=f"Postmortem draft for incident `{incident.id[:8]}` (audit trail).",
    )
    return made
