"""Find the restore point: ``/vault find``, the alert's button and ``flightvault find``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.catalogue import load_catalogue
from core.errors import VaultError
from core.finder import DEFAULT_WINDOW, Finding, find_restore_point
from core.state.incidents import Incident
from core.timeline import row_count_timeline
from core.timeutil import ONE_MICROSECOND
from usecases.context import Context
from usecases.port import Port, Thread, Upload
from usecases.render.chart import timeline_png
from usecases.render.finder import finder_message, searching_message


@dataclass(frozen=True, slots=True)
class FindRequest:
    table: str
    since: datetime | None = None
    before: datetime | None = None
    check: str | None = None

    @classmethod
    def for_incident(cls, incident: Incident) -> FindRequest:
        """Bounded to the incident: its window before the first event, through the last."""
        return cls(
            incident.table,
            since=incident.first_instant - DEFAULT_WINDOW,
            before=incident.last_instant + ONE_MICROSECOND,
        )


def find(
    ctx: Context,
    out: Port,
    request: FindRequest,
    *,
    thread: Thread,
    incident_id: str | None,
    actor: str,
    keep: bool = True,
) -> Finding:
    """Search, answer in ``thread`` with a *Preview restore* button, keep the finding (so
    the preview plans exactly that damage) and draw the timeline under the answer.
    ``keep=False`` (a terminal): the answer alone, nothing stored, no picture."""
    note = out.working(thread, searching_message(request.table))
    try:
        with ctx.engine.connect() as conn:
            finding = find_restore_point(
                conn,
                load_catalogue(conn),
                request.table,
                since=request.since,
                before=request.before,
                check=request.check,
                rules=ctx.settings.watch_config().rules,
            )
    except VaultError:
        out.abandon(note)
        raise
    ctx.metrics.finder_duration.observe(finding.seconds)
    if not keep:
        out.finish(thread, note, finder_message(finding))
        return finding
    finding_id = ctx.store.save_finding(
        source=ctx.source,
        table=finding.table,
        restore_point=finding.restore_point,
        damage=finding.damage,
        incident_id=incident_id,
        actor=actor,
    )
    answer = out.finish(thread, note, finder_message(finding, finding_id))
    out.upload(Thread(answer.channel, thread.ts or answer.ts), _timeline(ctx, finding))
    return finding


def _timeline(ctx: Context, finding: Finding) -> Upload:
    """The finder's picture: row count over the window, damage and restore point marked."""
    with ctx.engine.connect() as conn:
        points = row_count_timeline(
            conn,
            load_catalogue(conn),
            finding.table,
            since=finding.window[0] if finding.window else finding.restore_point,
        )
    png = timeline_png(finding.table, points, finding.damage[0].instant, finding.restore_point)
    return Upload(f"{finding.table}-timeline.png", f"{finding.table}: rows over time", png)
