"""Shared bench plumbing: a scratch database and side-by-side timing."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from core.db import make_engine

DEFAULT_SERVER = "mariadb+mariadbconnector://root@127.0.0.1:3306/mysql"


@contextmanager
def scratch_database(name: str, keep: bool = False) -> Iterator[Engine]:
    """A fresh database on VAULT_TEST_DATABASE_URL's server (or the local one)."""
    server: URL = make_url(os.environ.get("VAULT_TEST_DATABASE_URL", DEFAULT_SERVER))
    admin = make_engine(server, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    engine = make_engine(server.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        if not keep:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def interleaved(
    runs: int, contenders: dict[str, Callable[[], object]], warmup: int = 1
) -> dict[str, list[float]]:
    """Time each contender ``runs`` times, alternating, so noise hits all alike."""
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def median(values: list[float]) -> float:
    return statistics.median(values)


def orders_ddl(name: str, *, indexes: tuple[str, ...] = ("row_end",), note: bool = False) -> str:
    """The benchmarks' versioned table, with explicit period columns."""
    extra = " note VARCHAR(40) NOT NULL," if note else ""
    keys = "".join(f", INDEX ({col})" for col in indexes)
    return (
        f"CREATE TABLE {name} (id INT UNSIGNED PRIMARY KEY, customer INT NOT NULL,"
        f" amount DECIMAL(10,2) NOT NULL,{extra}"
        " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
        " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
        f" PERIOD FOR SYSTEM_TIME (row_start, row_end){keys}) WITH SYSTEM VERSIONING"
    )
