"""What handlers need, built once by the entry point and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.metrics import Metrics
from bot.settings import Settings
from core.db import describe_url
from core.state.store import StateStore


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    store: StateStore
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def source(self) -> str:
        """The watched database's identity in the state store."""
        return describe_url(self.engine.url)
