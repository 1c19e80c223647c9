"""Shared fixtures: a fresh MariaDB database per test, the bot on loopback."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from bot.offline.harness import OfflineBot
from core.db import make_engine
from tests.core.detect_schema import STATIONS
from tests.support.mariadb import mariadb_server
from tests.support.sql import run_sql


@pytest.fixture(scope="session")
def server_url() -> Iterator[URL]:
    try:
        with mariadb_server() as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit Slack or vault settings from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "VAULT_")) and name != "VAULT_TEST_DATABASE_URL":
            monkeypatch.delenv(name)


@contextmanager
def fresh_database(server_url: URL, prefix: str) -> Iterator[str]:
    """A newly created, uniquely named database, dropped on exit."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = make_engine(server_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture
def database_url(server_url: URL) -> Iterator[str]:
    """A freshly created database, dropped after the test."""
    with fresh_database(server_url, "fvtest") as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def offline_bot(database_url: str) -> Iterator[OfflineBot]:
    with OfflineBot(database_url) as bot:
        yield bot


@pytest.fixture
def second_database_url(server_url: URL) -> Iterator[str]:
    """Another fresh database, e.g. for a state store shared by two bot processes."""
    with fresh_database(server_url, "fvstate") as url:
        yield url


@pytest.fixture
def account(engine: Engine, database_url: str) -> Iterator[tuple[str, str, str]]:
    """Another database account (no grants yet) and the stations schema: (user, schema, URL)."""
    user, password = f"fv_{secrets.token_hex(4)}", secrets.token_hex(10)
    run_sql(engine, *STATIONS, f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    schema = make_url(database_url).database
    url = make_url(database_url).set(username=user, password=password)
    try:
        yield user, str(schema), url.render_as_string(hide_password=False)
    finally:
        run_sql(engine, f"DROP USER '{user}'@'%'")
