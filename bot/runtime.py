"""Builds the running bot from settings: one place for ``serve`` and the offline harness."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App

from bot.app import create_app
from bot.delivery import Deliverer
from bot.deps import Deps
from bot.restore_flow import sweep_interrupted
from bot.scheduler import WatchLoop
from bot.settings import Settings
from core.db import make_engine
from core.state.store import StateStore
from core.watcher import Watcher


@dataclass
class Runtime:
    deps: Deps
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
        self.deps.workers.shutdown(wait=True)
        self.deps.store.dispose()
        self.deps.engine.dispose()


def build_runtime(settings: Settings, *, socket_mode: bool = False) -> Runtime:
    engine = make_engine(settings.database_url(), pool_size=10, max_overflow=30)
    store = StateStore.from_url(settings.vault_state_url)
    store.create_tables()
    deps = Deps(settings, engine, store)
    listeners = ThreadPoolExecutor(32, thread_name_prefix="listener")
    app = create_app(deps, socket_mode=socket_mode, executor=listeners)
    assert settings.vault_alert_channel is not None
    watcher = Watcher(
        engine=engine, store=store, config=settings.watch_config(), source=deps.source
    )
    deliverer = Deliverer(
        store=store,
        client=app.client,
        channel=settings.vault_alert_channel,
        metrics=deps.metrics,
    )
    loop = WatchLoop(
        watcher=watcher,
        deliverer=deliverer,
        store=store,
        probe_interval=settings.vault_probe_interval,
        metrics=deps.metrics,
        lease_ttl=settings.vault_lease_ttl,
    )
    loop.sweep = lambda: sweep_interrupted(deps, app.client)
    return Runtime(deps, app, loop, listeners)
