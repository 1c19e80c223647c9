"""``flightvault doctor`` lists unversioned tables with the statements that would protect
them; ``flightvault protect`` previews one (statements, size, estimate) and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL, Engine, make_url

from bot.cli import run
from core.catalogue import load_catalogue
from core.db import make_engine
from tests.conftest import fresh_database
from tests.core.detect_schema import STATIONS
from tests.support.sql import run_sql
from tests.usecases.test_protect import ORDERS


def test_doctor_lists_unversioned_tables_with_their_statements(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_sql(engine, *STATIONS[:1], *ORDERS)
    monkeypatch.setenv("VAULT_DATABASE_URL", database_url)
    run(["doctor"])
    out = capsys.readouterr().out
    section = out[out.index("Not versioned yet") :]
    assert (
        "  orders:\n    ALTER TABLE `orders` ADD COLUMN `row_start` TIMESTAMP(6) GENERATED ALWAYS"
        " AS ROW START INVISIBLE, ADD COLUMN `row_end` TIMESTAMP(6) GENERATED ALWAYS AS ROW END"
        " INVISIBLE, ADD PERIOD FOR SYSTEM_TIME(`row_start`, `row_end`), ADD SYSTEM VERSIONING,"
        " ADD INDEX (`row_end`), ALGORITHM=COPY, LOCK=SHARED;" in section
    )
    assert "nokey:\n    cannot be protected:" in section and "neither a primary key" in section
    assert "flat:\n    cannot be protected:" in section and "MyISAM" in section
    assert "  stations:" not in section, "versioned tables are not listed"


def test_cli_protect_previews_and_changes_nothing(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_sql(engine, *ORDERS)
    monkeypatch.setenv("VAULT_DATABASE_URL", database_url)
    assert run(["protect", "orders"]) == 0
    out = capsys.readouterr().out
    assert "ALTER TABLE `orders` ADD COLUMN `row_start`" in out
    assert "Size: ~" in out and "Estimate: about" in out and "writes wait" in out
    assert "/vault protect orders" in out
    with engine.connect() as conn:
        assert load_catalogue(conn).get("orders").period is None
    assert run(["protect", "nokey"]) == 1
    assert "neither a primary key" in capsys.readouterr().err


def test_cli_protect_and_doctor_cover_every_schema(
    engine: Engine,
    database_url: str,
    server_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With ``VAULT_SCHEMAS``, doctor reports each schema and names unversioned tables
    ``schema.table``; ``flightvault protect schema.table`` previews that schema's table."""
    run_sql(engine, *STATIONS[:1])
    with fresh_database(server_url, "fvsecond") as second_url:
        second = make_engine(second_url)
        try:
            run_sql(second, *ORDERS[:2])
            first, other = make_url(database_url).database, make_url(second_url).database
            monkeypatch.setenv("VAULT_DATABASE_URL", database_url)
            monkeypatch.setenv("VAULT_SCHEMAS", f"{first},{other}")
            run(["doctor"])
            out = capsys.readouterr().out
            assert f"FlightVault doctor: {first} on" in out
            assert f"FlightVault doctor: {other} on" in out
            assert f"  {other}.orders:\n    ALTER TABLE `orders` ADD COLUMN" in out
            assert run(["protect", f"{other}.orders"]) == 0
            out = capsys.readouterr().out
            assert out.startswith(f"Protect {other}.orders: make it system-versioned.")
            assert f"/vault protect {other}.orders" in out
            assert run(["protect", "orders"]) == 0, "a name in one schema needs no prefix"
            assert f"Protect {other}.orders" in capsys.readouterr().out
            with second.connect() as conn:
                assert load_catalogue(conn).get("orders").period is None
        finally:
            second.dispose()


def test_a_name_too_long_is_refused_not_cut_to_another_table(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A 65-character name cut to 64 would name this real 64-character table, and protect
    would preview (and, approved, run) DDL on it: the name is refused instead."""
    real = "o" * 64
    run_sql(engine, f"CREATE TABLE {real} (id INT PRIMARY KEY) ENGINE=InnoDB")
    monkeypatch.setenv("VAULT_DATABASE_URL", database_url)
    assert run(["protect", real + "x"]) == 1
    captured = capsys.readouterr()
    assert "ALTER TABLE" not in captured.out
    assert "is longer than a table name can be" in captured.err
    schema = make_url(database_url).database
    assert run(["protect", f"{schema}.{real}"]) == 0, "schema.table may be up to 129 characters"
    assert f"ALTER TABLE `{real}`" in capsys.readouterr().out
