"""What every use case works over, built once by the entry point and passed down."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.metrics import Metrics
from bot.settings import Settings
from core.catalogue import Catalogue, load_catalogue
from core.db import check_reachable, describe_url, make_engine
from core.history import server_now
from core.state.store import StateStore
from core.watcher import Watcher

Authorised = Callable[[], bool]  # is the person acting an approver? asked only when it matters


@dataclass(frozen=True)
class Context:
    """The watched database, the state store, settings and policy, and shared workers."""

    settings: Settings
    engine: Engine
    store: StateStore
    metrics: Metrics = field(default_factory=Metrics)
    workers: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(16, thread_name_prefix="work")
    )
    readers: Executor = field(  # finders, previews, time travel, reports: bounded, apart
        default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="read")
    )  # from ``workers``, so heavy reads never queue in front of an approved restore
    _catalogue: list[Any] = field(default_factory=lambda: [None, 0.0], repr=False)

    def catalogue(self, *, max_age: float = 30.0) -> Catalogue:
        """The catalogue for validating input before the ack, reloaded every ``max_age`` s.

        Queries themselves always use a fresh catalogue; this one only answers
        "is there such a table?" quickly.
        """
        cached, loaded = self._catalogue
        if cached is None or time.monotonic() - loaded > max_age:
            with self.engine.connect() as conn:
                cached = load_catalogue(conn)
            self._catalogue[:] = [cached, time.monotonic()]
        assert isinstance(cached, Catalogue)
        return cached

    @property
    def source(self) -> str:
        """The watched database's identity in the state store."""
        return describe_url(self.engine.url)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        state_url: str | None = None,
        check: bool = False,
    ) -> Context:
        """Connect to the watched database (``check``: it must answer first, so an outage
        is told as such) and to the state store, creating its tables. ``state_url``
        overrides the configured store (``sqlite://``: a throwaway one in memory)."""
        engine = make_engine(
            settings.database_url(), pool_size=pool_size, max_overflow=max_overflow
        )
        store: StateStore | None = None
        try:
            if check:
                check_reachable(engine)
            store = StateStore.from_url(state_url or settings.vault_state_url)
            store.create_tables()
        except Exception:
            engine.dispose()
            if store is not None:
                store.dispose()
            raise
        return cls(settings, engine, store)

    def reachable(self) -> str:
        """The watched server's version; raises the sentence saying why it cannot be reached."""
        return check_reachable(self.engine)

    def server_now(self) -> datetime:
        """The watched server's clock: relative times ("6h") are read against it."""
        with self.engine.connect() as conn:
            return server_now(conn)

    def watcher(self) -> Watcher:
        return Watcher(
            engine=self.engine,
            store=self.store,
            config=self.settings.watch_config(),
            source=self.source,
        )

    def close(self) -> None:
        self.readers.shutdown(wait=True)
        self.workers.shutdown(wait=True)
        self.store.dispose()
        self.engine.dispose()
