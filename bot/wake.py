"""Following the replication stream so the watcher wakes on writes instead of polling.

``VAULT_WAKE=auto`` (the default) follows the binary log when the server has it on and the
account may read it, and polls otherwise; ``poll`` never follows; ``binlog`` says loudly at
start-up why it cannot follow, then polls. History stays the source of truth either way.
"""

from __future__ import annotations

import logging

from bot.scheduler import Watchers, WatchLoop
from core.wakeup import BinlogWake, current_position, unavailable
from core.watcher import Watcher

log = logging.getLogger(__name__)


Follower = BinlogWake


def follow_binlog(mode: str, loop: WatchLoop) -> BinlogWake | None:
    """Start following for the loop's watchers (one per schema) and hand each its writes;
    None when polling (the reason is logged)."""
    watched = loop.watcher
    watchers: list[Watcher] = watched.watchers if isinstance(watched, Watchers) else [watched]
    if mode == "poll":
        return None
    engine = watchers[0].engine
    why = unavailable(engine)
    if why is not None:
        say = log.warning if mode == "binlog" else log.info
        say("watching by polling: %s (VAULT_WAKE=%s)", why, mode)
        return None
    by_schema = {w.engine.url.database or "": w for w in watchers}

    def written(tables: set[tuple[str, str]]) -> None:
        for schema, table in tables:
            watcher = by_schema.get(schema)
            if watcher is not None:
                watcher.wake([table])
        loop.nudge()

    wake = BinlogWake(
        engine.url,
        list(by_schema),
        written,
        start=current_position(engine),
        restart=lambda: current_position(engine),
        active=lambda: loop.leader,
    )
    for watcher in watchers:
        watcher.following = lambda: wake.healthy
    if wake.start():
        log.info("watching by following the binary log")
    elif not loop.leader:
        log.info("another process leads the watching; this one follows the log when it leads")
    else:
        log.warning("the binary log did not answer yet; polling until it does")
    return wake
