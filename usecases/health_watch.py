"""The leader's history-health check: findings in, one message per change of condition out."""

from __future__ import annotations

from datetime import timedelta

from core.catalogue import load_catalogue
from core.history import server_now
from core.history_health import (
    HealthFinding,
    partitions,
    server_settings,
    short_history,
    versioning,
)
from core.state.common import Notification
from usecases.context import Context
from usecases.port import Port
from usecases.render.health import health_message


def findings(deps: Context) -> list[HealthFinding]:
    settings = deps.settings
    skipped = deps.store.watched.unwatched(source=deps.source)
    remembered = {
        key.partition(":")[2]
        for key in deps.store.conditions.known(source=deps.source, prefix="versioning:")
    }
    with deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        now = server_now(conn)
        watched = [t for t in catalogue.watched() if t.name not in skipped]
        return [
            *server_settings(conn),
            *versioning(catalogue, remembered),
            *short_history(
                conn, watched, now=now, minimum=timedelta(seconds=settings.vault_history_min)
            ),
            *partitions(conn, catalogue.schema, now=now, warn_at=settings.vault_partition_warn),
        ]


def check_history_health(deps: Context, out: Port) -> int:
    """Record every condition; alert only on those that started or cleared. Returns how many
    messages were queued."""
    channel = deps.settings.vault_alert_channel or ""
    changed = 0
    for finding in findings(deps):
        note = Notification("message", {"channel": channel, **health_message(finding).as_kwargs()})
        changed += deps.store.conditions.settle(
            source=deps.source,
            key=finding.key,
            active=finding.active,
            detail=finding.detail,
            note=note,
        )
    if changed:
        out.flush()
    return changed
