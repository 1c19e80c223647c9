"""What every use case works over, built once by the entry point and passed down."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from bot.metrics import Metrics
from bot.settings import Settings
from core.catalogue import Catalogue, load_catalogue
from core.db import describe_url
from core.state.store import StateStore

Authorised = Callable[[], bool]  # is the person acting an approver? asked only when it matters


@dataclass(frozen=True)
class Context:
    """The watched database, the state store, settings and policy, and shared workers."""

    settings: Settings
    engine: Engine
    store: StateStore
    metrics: Metrics = field(default_factory=Metrics)
    workers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(16, thread_name_prefix="work")
    )
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
