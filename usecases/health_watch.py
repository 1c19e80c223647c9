"""The leader's history-health check: findings in, one digest per kind of condition out.

Every (table, kind) condition is remembered on its own, so a table leaving a condition is
noticed; the messages are digests, one per kind (``usecases.render.health``), queued once
per check in which any of their conditions started or cleared and edited in place.
"""

from __future__ import annotations

from datetime import timedelta

from core.catalogue import load_catalogue
from core.history import server_now
from core.history_health import (
    SERVER,
    HealthFinding,
    digest_kind,
    partitions,
    server_settings,
    short_history,
    versioning,
)
from core.state.common import Notification
from usecases.context import Context
from usecases.port import Port


def findings(deps: Context) -> list[HealthFinding]:
    settings = deps.settings
    skipped = deps.store.watched.unwatched(source=deps.source)
    remembered = {
        key.partition(":")[2]
        for key in deps.store.conditions.known(source=deps.source, prefix="versioning:")
    }
    home = SERVER in evaluated(deps)  # server-wide settings: checked once
    with deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        now = server_now(conn)
        watched = [t for t in catalogue.watched() if t.name not in skipped]
        return [
            *(server_settings(conn) if home else []),
            *versioning(catalogue, remembered),
            *short_history(
                conn, watched, now=now, minimum=timedelta(seconds=settings.vault_history_min)
            ),
            *partitions(conn, catalogue.schema, now=now, warn_at=settings.vault_partition_warn),
        ]


def evaluated(deps: Context) -> set[str]:
    """The kinds ``findings`` checks in full for this schema: a standing condition of one
    of them that it no longer reports clears (drills keep their own pass)."""
    kinds = {"short", "versioning", "partitions"}
    return kinds | {SERVER} if deps.schema == deps.schema_names[0] else kinds


def digest_note(deps: Context, kind: str) -> Notification:
    """Edit (or post) the digest of ``kind``: rendered at delivery from the conditions then
    active, so one delivery covers every change queued before it. One digest per kind for
    the whole deployment: every watched schema's conditions are listed in it (``members``,
    each with the prefix its tables are named with), under the default schema's source."""
    channel = deps.settings.vault_alert_channel or ""
    views = deps.views()
    members = [[v.schema if deps.several else "", v.source] for v in views]
    payload = {"source": views[0].source, "kind": kind, "channel": channel, "members": members}
    return Notification("digest", payload)


def check_history_health(deps: Context, out: Port) -> int:
    """Record every condition; queue one digest update per kind in which a condition started
    or cleared. Returns how many digests were queued."""
    changed = deps.store.conditions.settle_all(
        source=deps.source,
        findings=((f.key, f.active, f.detail) for f in findings(deps)),
        note=lambda kind: digest_note(deps, kind),
        group=digest_kind,
        evaluated=evaluated(deps),
    )
    if changed:
        out.flush()
    return len(changed)
