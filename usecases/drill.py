"""Restore drills, on demand (``/vault drill``) and on a schedule (failures only)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.errors import log_unexpected, unexpected_sentence
from core.catalogue import load_catalogue
from core.drill import DrillResult, drill_point, run_drill
from core.errors import VaultError
from core.history_health import digest_kind
from usecases.context import Context
from usecases.health_watch import digest_note
from usecases.port import Port, Thread
from usecases.render.drill import drill_failure_message, drill_message

log = logging.getLogger(__name__)


def drill(
    deps: Context,
    out: Port,
    table: str,
    instant: datetime,
    user: str,
    thread: Thread,
) -> DrillResult | None:
    """The drill's result, posted in ``thread``; a failure is posted there too (None)."""
    try:
        result = run_drill(deps.engine, table, instant)
    except VaultError as exc:
        deps.store.audit.record(actor=user, action="drill failed", detail=f"{table}: {exc}")
        out.post(thread, drill_failure_message(table, str(exc), scheduled=False))
        return None
    deps.store.audit.record(
        actor=user,
        action="drill",
        detail=f"{result.table}: {result.rows:,} rows written and rolled back, "
        f"{result.run_seconds * 1000:.0f} ms",
    )
    out.post(thread, drill_message(result))
    return result


def scheduled_drills(deps: Context, out: Port) -> int:
    """Drill every watched table back ``VAULT_DRILL_WINDOW``. Failures are conditions
    (``drill:<table>``) listed in one digest, edited as tables start or stop failing.
    Returns how many failed."""
    skipped = deps.store.watched.unwatched(source=deps.source)
    with deps.engine.connect() as conn:
        names = [t.name for t in load_catalogue(conn).watched() if t.name not in skipped]
    window = timedelta(seconds=deps.settings.vault_drill_window)
    results = []
    for name in names:
        sentence = _drill_one(deps, name, window)
        results.append((f"drill:{name}", sentence is not None, f"`{name}`: {sentence or 'ok'}"))
    changed = deps.store.conditions.settle_all(
        source=deps.source,
        findings=results,
        note=lambda kind: digest_note(deps, kind),
        group=digest_kind,
        evaluated={"drill"},  # a table no longer drilled (dropped, unwatched) stops failing
    )
    if changed:
        out.flush()
    return sum(active for _, active, _ in results)


def _drill_one(deps: Context, name: str, window: timedelta) -> str | None:
    """None when the drill passed, else why it failed (audited)."""
    try:
        run_drill(deps.engine, name, drill_point(deps.engine, name, window))
        return None
    except VaultError as exc:
        sentence = str(exc)
    except Exception:
        sentence = unexpected_sentence(log_unexpected(log, f"drilling {name}"))
    deps.store.audit.record(
        actor="flightvault", action="drill failed", detail=f"{name}: {sentence}"
    )
    return sentence
