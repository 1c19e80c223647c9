"""With no MariaDB server on the machine, the demo and the tests start a private one.

Every test here starts its own throwaway ``mariadbd`` explicitly, so this path is
exercised even where the shared server at 127.0.0.1:3306 answers (it is never touched).
Without the binary they fail, saying to run ``scripts/bootstrap.sh``; they never skip.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from bot import private_server
from bot.demo import demo_server
from bot.private_server import PrivateServer, PrivateServerError, port_open
from core.db import make_engine
from core.errors import DatabaseUnavailable
from tests.support.mariadb import mariadb_server
from tests.support.process import cli

NOWHERE = "mariadb+mariadbconnector://root@127.0.0.1:1/nowhere"


@pytest.fixture(scope="module")
def private() -> Iterator[PrivateServer]:
    with PrivateServer() as server:
        yield server


def scalars(url: URL | str, *statements: str) -> list[object]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            return [conn.execute(sa.text(s)).scalar() for s in statements]
    finally:
        engine.dispose()


def test_it_answers_on_its_own_port_with_the_binary_log_on(private: PrivateServer) -> None:
    log_bin, fmt, port, datadir, database, charset = scalars(
        private.url,
        "SELECT @@log_bin",
        "SELECT @@binlog_format",
        "SELECT @@port",
        "SELECT @@datadir",
        "SELECT DATABASE()",
        "SELECT @@character_set_server",
    )
    assert (log_bin, fmt, database, charset) == (1, "ROW", "test", "utf8mb4")
    assert port == private.port != 3306
    assert str(datadir).rstrip("/") == str(private.datadir)
    assert str(private.url) == f"mariadb+mariadbconnector://root@127.0.0.1:{private.port}/test"


def test_system_versioned_tables_keep_history_there(private: PrivateServer) -> None:
    engine = make_engine(private.url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE city (id INT PRIMARY KEY) WITH SYSTEM VERSIONING"))
            conn.execute(sa.text("INSERT INTO city VALUES (1), (2)"))
        with engine.begin() as conn:
            before = conn.execute(sa.text("SELECT NOW(6)")).scalar_one()
            conn.execute(sa.text("DELETE FROM city WHERE id = 2"))
        with engine.connect() as conn:
            now = conn.execute(sa.text("SELECT COUNT(*) FROM city")).scalar_one()
            then = conn.execute(
                sa.text("SELECT COUNT(*) FROM city FOR SYSTEM_TIME AS OF :t"), {"t": before}
            ).scalar_one()
        assert (now, then) == (1, 2)
    finally:
        engine.dispose()


def test_the_cli_seeds_and_doctors_it(private: PrivateServer, tmp_path: Path) -> None:
    url = private.url.set(database="cli_demo").render_as_string(hide_password=False)
    seeded = cli("seed-demo", "--routes", "300", cwd=tmp_path, VAULT_DATABASE_URL=url)
    assert seeded.returncode == 0, seeded.stderr
    assert "Loaded demo data" in seeded.stdout
    doctor = cli("doctor", cwd=tmp_path, VAULT_DATABASE_URL=url)
    assert doctor.returncode == 0, doctor.stderr
    assert "airports" in doctor.stdout and "watched" in doctor.stdout


def test_exit_removes_its_data_and_closes_its_port() -> None:
    server = PrivateServer(binlog=False, extra_args=["--max-connections=42"])
    with server:
        root, port, process = server.root, server.port, server.process
        assert root is not None and process is not None and root.is_dir()
        log_bin, connections = scalars(server.url, "SELECT @@log_bin", "SELECT @@max_connections")
        assert (log_bin, connections) == (0, 42)
    assert not root.exists()
    assert not port_open(port)
    assert process.poll() is not None


def test_a_server_that_cannot_start_says_why_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(PrivateServerError, match="unknown option '--no-such-option'"):
        PrivateServer(extra_args=["--no-such-option"]).start()
    assert list(tmp_path.iterdir()) == []


def test_with_no_binary_the_error_says_to_run_the_bootstrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(private_server, "SEARCH_DIRS", ())
    with pytest.raises(PrivateServerError, match=r"No mariadbd .*scripts/bootstrap\.sh"):
        PrivateServer().start()
    printed: list[str] = []
    refused = pytest.raises(DatabaseUnavailable, match=r"127\.0\.0\.1:1/.*scripts/bootstrap\.sh")
    with refused, demo_server(make_url(NOWHERE), force=False, out=printed.append):
        pass
    assert printed == []


def test_the_demo_keeps_a_server_that_answers(server_url: URL) -> None:
    printed: list[str] = []
    with demo_server(server_url, force=False, out=printed.append) as chosen:
        assert chosen == server_url
    assert printed == []


def test_the_demo_falls_back_to_a_private_server_and_removes_it(tmp_path: Path) -> None:
    done = cli("demo", cwd=tmp_path, VAULT_DATABASE_URL=NOWHERE, TMPDIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (
        "MariaDB at 127.0.0.1:1/nowhere cannot be used (Can't connect to server on "
        "'127.0.0.1' (111)); starting a private throwaway server"
        in done.stdout
        or "MariaDB at 127.0.0.1:1/nowhere cannot be used (Can't connect to server on "
        "'127.0.0.1' (115)); starting a private throwaway server"
        in done.stdout
    )
    assert "Mumbai's 2 back" in done.stdout
    assert not list(tmp_path.glob("flightvault-mariadb-*"))


def test_the_switch_makes_the_test_fixture_use_a_private_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VAULT_TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv(private_server.FORCE_VARIABLE, "1")
    with mariadb_server() as url:
        (datadir,) = scalars(url, "SELECT @@datadir")
        assert url.port != 3306 and "flightvault-mariadb-" in str(datadir)
    assert not port_open(int(url.port or 0))
