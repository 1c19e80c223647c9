"""What every use case works over, built once by the entry point and passed down."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.metrics import Metrics
from bot.settings import Settings
from core.catalogue import Catalogue, load_catalogue
from core.db import check_reachable, describe_url, make_engine
from core.errors import InvalidInput, UnknownTable
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
    # Every watched schema's engine by name, shared by this context and its per-schema views
    # (empty: only ``engine``'s). ``engine`` is this view's schema: core SQL stays unqualified.
    engines: dict[str, Engine] = field(default_factory=dict, repr=False)
    _catalogues: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    def catalogue(self, *, max_age: float = 30.0) -> Catalogue:
        """The catalogue for validating input before the ack, reloaded every ``max_age`` s.

        Queries themselves always use a fresh catalogue; this one only answers
        "is there such a table?" quickly.
        """
        slot = self._catalogues.setdefault(self.schema, [None, 0.0])
        cached, loaded = slot
        if cached is None or time.monotonic() - loaded > max_age:
            with self.engine.connect() as conn:
                cached = load_catalogue(conn)
            slot[:] = [cached, time.monotonic()]
        assert isinstance(cached, Catalogue)
        return cached

    @property
    def source(self) -> str:
        """The watched database's identity in the state store."""
        return describe_url(self.engine.url)

    # ------------------------------------------------------------------ schemas

    @property
    def schema(self) -> str:
        """The schema this context works in (its engine's default database)."""
        return self.engine.url.database or ""

    @property
    def schema_names(self) -> tuple[str, ...]:
        return tuple(self.engines) or (self.schema,)

    @property
    def several(self) -> bool:
        """More than one schema is watched: messages then name the schema."""
        return len(self.schema_names) > 1

    def in_schema(self, name: str) -> Context:
        """The same context working in schema ``name`` (one of ``schema_names``)."""
        if name == self.schema:
            return self
        return replace(self, engine=self.engines[name])

    def views(self) -> list[Context]:
        """One context per watched schema, the default first."""
        return [self.in_schema(name) for name in self.schema_names]

    def for_source(self, source: str) -> Context:
        """The schema an incident, plan or finding was recorded in (by its ``source``)."""
        if not self.several:
            return self
        views = self.views()
        match = next((v for v in views if v.source == source), None)
        server, _, database = source.rpartition("/")
        match = match or next(  # the same schema on the same server, however it was spelt
            (v for v in views if v.schema == database and v.source.rpartition("/")[0] == server),
            None,
        )
        if match is None:
            raise InvalidInput(
                f"That belongs to schema `{database[:64]}`, which FlightVault no longer "
                "watches; nothing changed."
            )
        return match

    def label(self, table: str) -> str:
        """``schema.table`` when several schemas are watched, else the table alone."""
        return f"{self.schema}.{table}" if self.several else table

    def resolve(
        self, word: str, *, versioned: bool = True, max_age: float = 30.0
    ) -> tuple[Context, str]:
        """``shop.orders`` or a bare ``orders``: the schema's context and the table as the
        catalogue spells it. A bare name found in several schemas is refused, naming them;
        ``versioned=False`` also accepts tables that cannot be watched (freezes)."""
        views = self.views()
        schema, dot, table = word.partition(".")
        if dot and schema in self.schema_names:
            view = self.in_schema(schema)
            return view, _lookup(view.catalogue(max_age=max_age), table, versioned)
        tables = {v.schema: v.catalogue(max_age=max_age).tables for v in views}
        if dot and not any(word in t for t in tables.values()):
            listed = _and([f"`{n}`" for n in self.schema_names])
            raise InvalidInput(
                f"`{schema[:64]}` is not a schema FlightVault watches; it watches {listed}."
            )
        if not self.several:
            return self, _lookup(self.catalogue(max_age=max_age), word, versioned)
        found = [v for v in views if word in tables[v.schema]]
        usable = [v for v in found if tables[v.schema][word].watchable or not versioned]
        if len(usable) > 1:
            names = [v.schema for v in usable]
            say = _and([f"`{n}.{word}`" for n in names], "or")
            raise InvalidInput(f"`{word}` is in {_and(names)}; say {say}.")
        if not found:
            shown = word if len(word) <= 64 else word[:61] + "..."
            raise UnknownTable(
                f"There is no table `{shown}` in {_and(list(self.schema_names), 'or')}. "
                "`/vault status` lists them."
            )
        view = (usable or found)[0]
        return view, _lookup(view.catalogue(max_age=max_age), word, versioned)

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
        engines = {
            str(url.database): make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
            for url in settings.schema_urls()
        }
        store: StateStore | None = None
        try:
            if check:
                for engine in engines.values():
                    check_reachable(engine)
            store = StateStore.from_url(state_url or settings.vault_state_url)
            store.create_tables()
        except Exception:
            for engine in engines.values():
                engine.dispose()
            if store is not None:
                store.dispose()
            raise
        first = next(iter(engines.values()))
        return cls(settings, first, store, engines=engines if len(engines) > 1 else {})

    def reachable(self) -> str:
        """The watched server's version; raises the sentence saying why it cannot be reached."""
        return check_reachable(self.engine)

    def server_now(self) -> datetime:
        """The watched server's clock: relative times ("6h") are read against it."""
        with self.engine.connect() as conn:
            return server_now(conn)

    def watcher(self) -> Watcher:
        """This schema's watcher; ``watchers`` has one per watched schema."""
        return Watcher(
            engine=self.engine,
            store=self.store,
            config=self.settings.watch_config(),
            source=self.source,
        )

    def watchers(self) -> list[Watcher]:
        return [view.watcher() for view in self.views()]

    def close(self) -> None:
        self.readers.shutdown(wait=True)
        self.workers.shutdown(wait=True)
        self.store.dispose()
        for engine in {id(e): e for e in [self.engine, *self.engines.values()]}.values():
            engine.dispose()


def _lookup(catalogue: Catalogue, table: str, versioned: bool) -> str:
    return (catalogue.watchable(table) if versioned else catalogue.get(table)).name


def _and(items: list[str], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"
