"""What people do with incidents and watched tables: dismiss, watch, status, audit, the
full diff. Each returns the sentence or message to show, or says it through the port."""

from __future__ import annotations

import tempfile
from datetime import datetime

from core.catalogue import load_catalogue
from core.errors import InvalidInput
from core.finder import first_version
from core.incident_rows import incident_rows, incident_tables
from core.state.incidents import Incident, IncidentStatus
from usecases import retention, threads
from usecases.context import Context
from usecases.port import Port
from usecases.render import Message
from usecases.render.alert import full_diff_message
from usecases.render.csv_export import write_row_changes
from usecases.render.health import named
from usecases.render.restore import audit_message
from usecases.render.status import status_message


def incident(ctx: Context, incident_id: str) -> Incident:
    found = ctx.store.incidents.get(incident_id)
    if found is None:
        raise InvalidInput(
            "I can't find that incident any more; run `/vault help` to see what I can do."
        )
    return found


def dismiss(ctx: Context, words: list[str], *, actor: str) -> str:
    """``<incident> [reason…]``: an open incident becomes a false alarm, audited."""
    found = ctx.store.incidents.by_prefix(words[0][:32]) if words else None
    if found is None:
        raise InvalidInput(
            "Name an open incident by the ID in its alert: `/vault dismiss 240475df`."
        )
    if found.status is not IncidentStatus.OPEN or not ctx.store.dismiss_incident(
        found.id, actor=actor, reason=" ".join(words[1:])[:200] or "false alarm"
    ):
        status = (ctx.store.incidents.get(found.id) or found).status.value
        raise InvalidInput(
            f"Incident `{found.id[:8]}` is {status}; only open ones can be dismissed."
        )
    return f"Dismissed incident `{found.id[:8]}` as a false alarm."


def set_watched(ctx: Context, words: list[str], *, watch: bool, actor: str) -> str:
    verb = "watch" if watch else "unwatch"
    if not words:
        raise InvalidInput(f"Name a table: `/vault {verb} airports`.")
    view, table = ctx.resolve(words[0][:200], max_age=0)
    changed = ctx.store.set_watched(source=view.source, table=table, watched=watch, actor=actor)
    state = "now watched" if watch else "no longer watched"
    already = "" if changed else " (it already was)"
    return f"`{view.label(table)}` is {state}{already}."


def status(ctx: Context) -> Message:
    """Watched tables with their history's reach, open incidents, pending plans, freezes:
    of every watched schema (tables named ``schema.table`` when there are several)."""
    tables: list[tuple[str, datetime | None, bool]] = []
    for view in ctx.views():
        skipped = ctx.store.watched.unwatched(source=view.source)
        with view.engine.connect() as conn:
            tables += [
                (view.label(t.name), first_version(conn, t), t.name not in skipped)
                for t in load_catalogue(conn).watched()
            ]
    sources = [view.source for view in ctx.views()]
    reads = [ctx.store.events.last_read(source=s) for s in sources]
    return status_message(
        tables,
        [i for s in sources for i in ctx.store.incidents.open(source=s)],
        [p for s in sources for p in ctx.store.plans.pending(source=s)],
        None if None in reads else min(r for r in reads if r is not None),  # the stalest
        [f for s in sources for f in ctx.store.freezes.active(source=s)],
        standing(ctx),
        ctx.store.outbox.dead_letters(),
        retention.windows(ctx),
    )


def standing(ctx: Context) -> dict[str, str]:
    """Every schema's active conditions, keyed and named by schema when there are several:
    the same table name in two schemas is two conditions, not one overwriting the other."""
    found: dict[str, str] = {}
    for view in ctx.views():
        prefix = view.schema if ctx.several else ""
        for key, detail in ctx.store.conditions.active(source=view.source).items():
            found[f"{prefix}\x1f{key}"] = named(prefix, detail)
    return found


def audit(ctx: Context, words: list[str]) -> Message:
    """The trail of one incident, named by its full ID or the 8 characters its alert shows,
    or of recent actions."""
    if not words:
        return audit_message(ctx.store.audit.trail(incident_id=None), "recent actions")
    word = words[0][:64]
    found = ctx.store.incidents.get(word) or ctx.store.incidents.by_prefix(word[:32])
    if found is None:
        raise InvalidInput(
            f"There is no incident `{word[:16]}`; `/vault audit` shows recent actions."
        )
    where = f" in {ctx.for_source(found.source).schema}" if ctx.several else ""
    trail = ctx.store.audit.trail(incident_id=found.id)
    return audit_message(trail, f"incident `{found.id[:8]}`{where}")


def full_diff(ctx: Context, out: Port, incident_id: str) -> None:
    """Every changed row of the incident, one CSV per table, in its thread."""
    found = incident(ctx, incident_id)
    ctx = ctx.for_source(found.source)
    thread = threads.of_incident(found)
    records = ctx.store.incidents.events(found.id)
    totals = incident_tables(records)
    with tempfile.TemporaryDirectory() as folder, ctx.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        uploads = [
            write_row_changes(folder, table, incident_rows(conn, catalogue, records, table))
            for table in totals
        ]
        out.post(thread, full_diff_message(found, totals, len(uploads)))
        out.upload(thread, *uploads)
