"""Engines for the watched database.

Every session runs in UTC because ``row_end`` of current rows and every
history instant are rendered in the session time zone: a comparison made in
another zone silently matches nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from core.errors import ConfigError, DatabaseUnavailable

log = logging.getLogger(__name__)

SUPPORTED_BACKENDS = frozenset({"mariadb", "mysql"})


def parse_database_url(raw: str | URL, *, setting: str = "VAULT_DATABASE_URL") -> URL:
    """Parse and sanity-check an SQLAlchemy URL for a MariaDB server."""
    try:
        url = make_url(raw)
    except Exception as exc:  # SQLAlchemy raises ArgumentError, ValueError...
        raise ConfigError(
            f"{setting} is not a valid SQLAlchemy URL; expected something like "
            "mariadb+mariadbconnector://user:password@host:3306/database."
        ) from exc
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"{setting} must point at MariaDB (mariadb+mariadbconnector://...), "
            f"not {url.get_backend_name()}."
        )
    if not url.database:
        raise ConfigError(f"{setting} must name a database, e.g. ...:3306/shop.")
    if url.get_driver_name() != "mariadbconnector":  # mariadb://, mysql+pymysql://: ours
        url = url.set(drivername="mariadb+mariadbconnector")  # is the driver installed
    return url


def describe_url(url: URL) -> str:
    """Where we connect, for messages: host, port and database, never the password."""
    return f"{url.host or 'localhost'}:{url.port or 3306}/{url.database}"


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET time_zone = '+00:00'")
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine whose every connection is a UTC session, checked before use."""
    parsed = parse_database_url(url)
    engine = sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    sa.event.listen(engine, "connect", _utc_session)
    return engine


def check_reachable(engine: Engine) -> str:
    """Connect once; return the server version or raise ``DatabaseUnavailable``."""
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT VERSION()")).scalar_one())
    except sa.exc.DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise DatabaseUnavailable(
            f"Cannot reach the database at {describe_url(engine.url)}: {reason}. "
            "Check that the server is running and VAULT_DATABASE_URL is right."
        ) from exc


def create_database_if_missing(url: URL) -> None:
    """Create the URL's database (name quoted by the dialect) if it does not exist."""
    server = make_engine(url.set(database="mysql"))
    try:
        with server.begin() as conn:
            name = conn.dialect.identifier_preparer.quote_identifier(str(url.database))
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {name}"))
    except sa.exc.DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise DatabaseUnavailable(
            f"Cannot create or reach database {describe_url(url)}: {reason}."
        ) from exc
    finally:
        server.dispose()
