"""Restore drills, on demand (``/vault drill``) and on a schedule (failures only)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.errors import log_unexpected, unexpected_sentence
from core.catalogue import load_catalogue
from core.drill import DrillResult, drill_point, run_drill
from core.errors import VaultError
from core.state.common import Notification
from usecases.context import Context
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
    """Drill every watched table back ``VAULT_DRILL_WINDOW``; post only failures.
    Returns how many failed."""
    skipped = deps.store.watched.unwatched(source=deps.source)
    with deps.engine.connect() as conn:
        names = [t.name for t in load_catalogue(conn).watched() if t.name not in skipped]
    window = timedelta(seconds=deps.settings.vault_drill_window)
    failed = 0
    for name in names:
        try:
            run_drill(deps.engine, name, drill_point(deps.engine, name, window))
            continue
        except VaultError as exc:
            sentence = str(exc)
        except Exception:
            sentence = unexpected_sentence(log_unexpected(log, f"drilling {name}"))
        failed += 1
        deps.store.audit.record(
            actor="flightvault", action="drill failed", detail=f"{name}: {sentence}"
        )
        message = drill_failure_message(name, sentence, scheduled=True).as_kwargs()
        channel = deps.settings.vault_alert_channel or ""
        deps.store.outbox.enqueue(
            incident_id=None, notification=Notification("message", {"channel": channel, **message})
        )
    if failed:
        out.flush()
    return failed
