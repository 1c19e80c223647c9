"""Builds the running bot from settings: one place for ``serve`` and the offline harness."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import create_app
from bot.scheduler import JOBS_EVERY, SWEEP_EVERY, Chore, Watchers, WatchLoop, lease_for
from bot.settings import Settings
from bot.wake import Follower, follow_binlog
from handlers.slack_port import SlackPort
from usecases.context import Context
from usecases.delivery import Deliverer
from usecases.drill import scheduled_drills
from usecases.health_watch import check_history_health
from usecases.reminders import run_due_jobs
from usecases.restore import sweep_interrupted
from usecases.retention import prune_all
from usecases.schema_change import sweep_interrupted_changes as sweep_changes


@dataclass
class Runtime:
    deps: Context
    app: App
    loop: WatchLoop
    listeners: ThreadPoolExecutor
    wake: Follower | None = None

    def start_watching(self) -> None:
        self.loop.start()
        self.wake = follow_binlog(self.deps.settings.vault_wake, self.loop)

    def close(self) -> None:
        """Graceful stop: the watcher finishes its tick, listeners (a running restore
        included) finish their work, then connections close. A process killed harder
        than this loses its connection mid-transaction, and MariaDB rolls it back."""
        if self.wake is not None:
            self.wake.stop()
        self.loop.shutdown()
        self.listeners.shutdown(wait=True)
        self.deps.close()


def leader_chores(deps: Context, client: WebClient) -> list[Chore]:
    """What only the watcher lease holder does, besides watching: per watched schema where
    the chore reads the database."""
    settings = deps.settings
    out = SlackPort.of(deps, client)
    views = deps.views()
    chores = [
        Chore("sweep", SWEEP_EVERY, lambda: [sweep_interrupted(v, out) for v in views]),
        Chore("sweep changes", SWEEP_EVERY, lambda: [sweep_changes(v, out) for v in views]),
        Chore("jobs", JOBS_EVERY, lambda: run_due_jobs(deps, out)),
    ]
    if settings.vault_health_interval:
        chores.append(
            Chore(
                "history health",
                settings.vault_health_interval,
                lambda: [check_history_health(v, out) for v in views],
                background=True,
            )
        )
    if settings.vault_retention_interval:  # pruning is slow work: off the watch tick
        chores.append(
            Chore(
                "retention",
                settings.vault_retention_interval,
                lambda: prune_all(deps),
                background=True,
            )
        )
    if settings.vault_drill_interval:  # first drill one interval after start, not at every start
        chores.append(
            Chore(
                "drill",
                settings.vault_drill_interval,
                lambda: [scheduled_drills(v, out) for v in views],
                background=True,
                next_at=time.monotonic() + settings.vault_drill_interval,
            )
        )
    return chores


def build_runtime(settings: Settings, *, socket_mode: bool = False) -> Runtime:
    deps = Context.open(settings, pool_size=10, max_overflow=30)
    store = deps.store
    listeners = ThreadPoolExecutor(32, thread_name_prefix="listener")
    try:
        app = create_app(deps, socket_mode=socket_mode, executor=listeners)
    except Exception:  # Slack refused the token or cannot be reached: nothing starts
        listeners.shutdown(wait=False)
        deps.close()
        raise
    assert settings.vault_alert_channel is not None
    watchers = deps.watchers()
    deliverer = Deliverer(
        store=store,
        client=app.client,
        channel=settings.vault_alert_channel,
        metrics=deps.metrics,
        name_schemas=deps.several,
    )
    deps.metrics.dead_letters.set(store.outbox.dead_count())  # then kept on each change
    loop = WatchLoop(
        watcher=watchers[0] if len(watchers) == 1 else Watchers(watchers),
        deliverer=deliverer,
        store=store,
        probe_interval=settings.vault_probe_interval,
        metrics=deps.metrics,
        lease_ttl=settings.vault_lease_ttl,
        lease=lease_for(deps.source),  # the default schema's: one leader per deployment
    )
    loop.workers = deps.workers
    loop.chores = leader_chores(deps, app.client)
    return Runtime(deps, app, loop, listeners)
