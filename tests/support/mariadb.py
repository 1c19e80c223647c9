"""Finding a MariaDB server for the tests, in a fixed order, failing loudly.

1. ``VAULT_TEST_DATABASE_URL`` if set (and it must work: no silent fallback);
2. the local server at 127.0.0.1:3306 as root with an empty password;
3. a throwaway ``mariadb:10.11`` container, when a Docker engine answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from core.db import make_engine

LOCAL = "mariadb+mariadbconnector://root@127.0.0.1:3306/mysql"


def _works(url: URL) -> str | None:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except sa.exc.DBAPIError as exc:
        return str(exc.orig).splitlines()[0] if exc.orig else str(exc)
    finally:
        engine.dispose()


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@contextmanager
def mariadb_server() -> Iterator[URL]:
    """Yield a URL to a server where the tests may create and drop databases."""
    explicit = os.environ.get("VAULT_TEST_DATABASE_URL")
    if explicit:
        url = make_url(explicit)
        problem = _works(url)
        if problem:
            raise RuntimeError(f"VAULT_TEST_DATABASE_URL does not work: {problem}")
        yield url
        return
    local_problem = _works(make_url(LOCAL))
    if local_problem is None:
        yield make_url(LOCAL)
        return
    if _docker_answers():
        from testcontainers.mysql import MySqlContainer

        with MySqlContainer("mariadb:10.11", username="root", password="test") as box:
            yield make_url(box.get_connection_url()).set(drivername="mariadb+mariadbconnector")
        return
    raise RuntimeError(
        "No MariaDB server for the tests: set VAULT_TEST_DATABASE_URL, start MariaDB on "
        f"127.0.0.1:3306 ({local_problem}), or run a Docker engine for testcontainers."
    )
