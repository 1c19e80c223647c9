"""``/vault retention <table> <duration>`` (two people) and the pruning pass the leader runs.

The setting lives in the state store; the pruning pass reads it, prunes each
table's history older than its retention (``core.retention``), and audits
what it removed. Status shows each table's window, history size and retention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from core.catalogue import load_catalogue
from core.errors import VaultError
from core.retention import (
    HistoryWindow,
    PruneOutcome,
    check_may_prune,
    check_retention,
    history_window,
    method_for,
    prune,
)
from core.state.changes import ChangeRecord, Retention
from core.timeutil import ONE_MICROSECOND, fmt_instant, from_db
from usecases.change_request import Done, new_request, post_request
from usecases.context import Context
from usecases.port import Port, Thread
from usecases.render.change import span

log = logging.getLogger(__name__)
KIND = "retention"


def request(
    ctx: Context, out: Port, word: str, keep: timedelta, user: str, thread: Thread
) -> ChangeRecord:
    """``word`` is ``schema.table`` or a bare name; the request records that schema's
    ``source``, so the approval stores the retention and prunes there. Unversioned tables
    resolve too, to be refused with the sentence that says how to version them."""
    minimum = timedelta(seconds=ctx.settings.vault_history_min)
    view, table = ctx.resolve(word, versioned=False, max_age=0)
    with view.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        info = catalogue.get(table)
        check_retention(info, keep, minimum)
        method = method_for(conn, catalogue.schema, info.name)
        check_may_prune(conn, catalogue.schema, info.name, method)
        window = history_window(conn, catalogue.schema, info)
    spec = {
        "keep_seconds": keep.total_seconds(),
        "method": method,
        "oldest": fmt_instant(window.oldest) if window.oldest else None,
        "rows": window.rows,
        "interval": ctx.settings.vault_retention_interval,  # 0: pruned only on approval
    }
    rec = new_request(view, kind=KIND, table=info.name, spec=spec, user=user, thread=thread)
    said = f"retention {view.label(info.name)}: keep {span(keep)} ({method})"
    return post_request(view, out, rec, said)


def execute(ctx: Context, rec: ChangeRecord) -> Done:
    """Prune at once, then store the retention: the approval is when the window is set, and
    a prune the database refuses leaves no setting in force that nobody was told about.
    ``ctx`` is the view of the request's schema."""
    keep = float(rec.spec["keep_seconds"])
    actor = rec.approvals[-1] if rec.approvals else "flightvault"
    pruned = prune_table(ctx, rec.table, keep)
    ctx.store.set_retention(
        source=ctx.source,
        table=rec.table,
        keep_seconds=keep,
        method=str(rec.spec["method"]),
        actor=actor,
        ref=rec.id,
    )
    kept = (
        f" History from {fmt_instant(pruned.held.instant)} on is kept until "
        f"{pruned.held.reason} is restored, dismissed or expires."
        if pruned.held
        else ""
    )
    return Done(
        f"{ctx.label(rec.table)} keeps {span(timedelta(seconds=keep))} of history from now on; "
        f"{pruned.rows:,} history rows older than that were removed, current rows untouched."
        + kept,
        {"pruned": pruned.rows},
    )


def interrupted(ctx: Context, rec: ChangeRecord) -> tuple[Done, bool]:
    """The process pruning died: two people approved the retention, so it is set now and
    the next pruning pass carries on (every DELETE HISTORY step committed on its own, so
    what was pruned stays pruned). With the pass off, nothing would carry on: not set."""
    name = ctx.label(rec.table)
    if not ctx.settings.vault_retention_interval:
        return Done(
            f"Pruning {name} was interrupted before it finished and the retention was not "
            "set (VAULT_RETENTION_INTERVAL is 0, so no pass would continue); ask again.",
            {},
        ), False
    keep = float(rec.spec["keep_seconds"])
    ctx.store.set_retention(
        source=ctx.source,
        table=rec.table,
        keep_seconds=keep,
        method=str(rec.spec["method"]),
        actor=rec.approvals[-1] if rec.approvals else "flightvault",
        ref=rec.id,
    )
    return Done(
        f"Pruning {name} was interrupted; its retention of {span(timedelta(seconds=keep))} "
        "is set and the next pruning pass continues.",
        {},
    ), False


@dataclass(frozen=True, slots=True)
class PruneSummary:
    tables: int
    rows: int


@dataclass(frozen=True, slots=True)
class Hold:
    """The earliest instant an unfinished incident or restore still needs the history of."""

    instant: datetime
    reason: str  # "incident abcd1234", "restore plan abcd1234"


@dataclass(frozen=True, slots=True)
class TablePrune:
    rows: int
    held: Hold | None  # the cut was kept back for this


def held_history(ctx: Context) -> Hold | None:
    """What pruning must keep in this schema: the history of every open or restore-pending
    incident and of every restore plan not yet run or expired is the only copy of the rows
    it would bring back. Any table of the schema: a cascade's damage spans several."""
    holds = [
        Hold(from_db(i.first_instant), f"incident {i.id[:8]}")
        for i in ctx.store.incidents.open(source=ctx.source)
    ]
    plans = ctx.store.plans.pending(source=ctx.source) + ctx.store.plans.executing(
        source=ctx.source
    )
    for rec in plans:
        reason = f"incident {rec.incident_id[:8]}" if rec.incident_id else f"plan {rec.id[:8]}"
        instants = [rec.plan.restore_point, *(step.instant for step in rec.plan.steps)]
        holds.append(Hold(min(from_db(i) for i in instants), reason))
    return min(holds, key=lambda h: h.instant, default=None)


def prune_table(ctx: Context, table: str, keep_seconds: float) -> TablePrune:
    """One table's pruning pass (audited when it removed any rows). The cut is ``keep``
    ago, kept back to just before any history an unfinished incident or plan needs."""
    minimum = timedelta(seconds=ctx.settings.vault_history_min)
    keep = max(timedelta(seconds=keep_seconds), minimum)  # a lowered minimum is honoured next
    cut = ctx.server_now() - keep
    hold = held_history(ctx)
    held = hold if hold is not None and hold.instant - ONE_MICROSECOND < cut else None
    if held is not None:
        cut = held.instant - ONE_MICROSECOND
    with ctx.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        info = catalogue.get(table)
        check_retention(info, keep, minimum)
    done = prune(ctx.engine, catalogue.schema, info, cut=cut, batch=ctx.settings.vault_prune_batch)
    if done.rows or done.dropped:
        ctx.store.record_prune(
            source=ctx.source, table=table, rows=done.rows, detail=_prune_detail(ctx, done, held)
        )
    return TablePrune(done.rows, held)


def _prune_detail(ctx: Context, done: PruneOutcome, held: Hold | None) -> str:
    what = (
        f"dropped partitions {', '.join(done.dropped)}"
        if done.dropped
        else f"{done.batches} DELETE HISTORY steps"
    )
    kept = f"; kept back to {fmt_instant(held.instant)} for {held.reason}" if held else ""
    return (
        f"{ctx.label(done.table)}: {done.rows:,} history rows before "
        f"{fmt_instant(done.cut)} ({what}){kept}"
    )


def prune_all(ctx: Context) -> PruneSummary:
    """The scheduled pass (leader only): every table with a retention, in every watched
    schema; one table's failure is logged and does not stop the others."""
    tables = rows = 0
    for view in ctx.views():
        for setting in ctx.store.changes.retentions(source=view.source):
            try:
                rows += prune_table(view, setting.table, setting.keep_seconds).rows
                tables += 1
            except (VaultError, sa.exc.DBAPIError) as exc:
                log.warning("pruning the history of %s failed: %s", view.label(setting.table), exc)
    return PruneSummary(tables, rows)


def windows(ctx: Context) -> list[tuple[HistoryWindow, Retention | None]]:
    """Each watched table's window and size, with its retention if one is set, in every
    watched schema (named ``schema.table`` when there are several)."""
    return [w for view in ctx.views() for w in _windows(view)]


def _windows(view: Context) -> list[tuple[HistoryWindow, Retention | None]]:
    settings = {r.table: r for r in view.store.changes.retentions(source=view.source)}
    out = []
    with view.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        for info in catalogue.watched():
            try:
                window = history_window(conn, catalogue.schema, info)
            except sa.exc.DBAPIError:
                continue
            shown = replace(window, table=view.label(info.name))
            out.append((shown, settings.get(info.name)))
    return out
