"""Finding a MariaDB server for the tests, in a fixed order, failing loudly.

1. ``VAULT_TEST_DATABASE_URL`` if set (and it must work: no silent fallback);
2. with ``FV_PRIVATE_SERVER=1``, a private throwaway ``mariadbd`` (reproduces a
   machine with no server, as on a bare CI runner);
3. the local server at 127.0.0.1:3306 as root with an empty password;
4. a throwaway ``mariadb:10.11`` container, when a Docker engine answers;
5. a private throwaway ``mariadbd`` (``bot.private_server``), when the binary is
   installed (``scripts/bootstrap.sh`` installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from bot import private_server
from bot.private_server import PrivateServer
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
def _private() -> Iterator[URL]:
    """A private server sized like the shared one, for the whole session."""
    with PrivateServer(database="mysql", buffer_pool="128M") as server:
        yield server.url


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
    if private_server.forced():
        if not private_server.available():
            raise RuntimeError(
                f"{private_server.FORCE_VARIABLE}=1 but there is no mariadbd on this machine: "
                f"{private_server.BOOTSTRAP_HINT}."
            )
        with _private() as url:
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
    if private_server.available():
        with _private() as url:
            yield url
        return
    raise RuntimeError(
        "No MariaDB server for the tests: set VAULT_TEST_DATABASE_URL, start MariaDB on "
        f"127.0.0.1:3306 ({local_problem}), run a Docker engine for testcontainers, or "
        f"{private_server.BOOTSTRAP_HINT} so the tests can start a private one."
    )
