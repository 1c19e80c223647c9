"""Builds the running bot from settings: one place for ``serve`` and the offline harness."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import create_app
from bot.scheduler import JOBS_EVERY, SWEEP_EVERY, Chore, WatchLoop
from bot.settings import Settings
from handlers.slack_port import SlackPort
from usecases.context import Context
from usecases.delivery import Deliverer
from usecases.drill import scheduled_drills
from usecases.health_watch import check_history_health
from usecases.reminders import run_due_jobs
from usecases.restore import sweep_interrupted


@dataclass
class Runtime:
    deps: Context
    app: App
    loop: WatchLoop
    listeners: ThreadPoolExecutor

    def start_watching(self) -> None:
        self.loop.start()

    def close(self) -> None:
        """Graceful stop: the watcher finishes its tick, listeners (a running restore
        included) finish their work, then connections close. A process killed harder
        than this loses its connection mid-transaction, and MariaDB rolls it back."""
        self.loop.shutdown()
        self.listeners.shutdown(wait=True)
        self.deps.close()


def leader_chores(deps: Context, client: WebClient) -> list[Chore]:
    """What only the watcher lease holder does, besides watching."""
    settings = deps.settings
    out = SlackPort.of(deps, client)
    chores = [
        Chore("sweep", SWEEP_EVERY, lambda: sweep_interrupted(deps, out)),
        Chore("jobs", JOBS_EVERY, lambda: run_due_jobs(deps, out)),
    ]
    if settings.vault_health_interval:
        chores.append(
            Chore(
                "history health",
                settings.vault_health_interval,
                lambda: check_history_health(deps, out),
                background=True,
            )
        )
    if settings.vault_drill_interval:  # first drill one interval after start, not at every start
        chores.append(
            Chore(
                "drill",
                settings.vault_drill_interval,
                lambda: scheduled_drills(deps, out),
                background=True,
                next_at=time.monotonic() + settings.vault_drill_interval,
            )
        )
    return chores


def build_runtime(settings: Settings, *, socket_mode: bool = False) -> Runtime:
    deps = Context.open(settings, pool_size=10, max_overflow=30)
    store = deps.store
    listeners = ThreadPoolExecutor(32, thread_name_prefix="listener")
    app = create_app(deps, socket_mode=socket_mode, executor=listeners)
    assert settings.vault_alert_channel is not None
    watcher = deps.watcher()
    deliverer = Deliverer(
        store=store,
        client=app.client,
        channel=settings.vault_alert_channel,
        metrics=deps.metrics,
    )
    deps.metrics.dead_letters.set(store.outbox.dead_count())  # then kept on each change
    loop = WatchLoop(
        watcher=watcher,
        deliverer=deliverer,
        store=store,
        probe_interval=settings.vault_probe_interval,
        metrics=deps.metrics,
        lease_ttl=settings.vault_lease_ttl,
    )
    loop.workers = deps.workers
    loop.chores = leader_chores(deps, app.client)
    return Runtime(deps, app, loop, listeners)
