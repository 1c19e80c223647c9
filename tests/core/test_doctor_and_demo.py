"""Demo data loads once and doctor reports on it; missing privileges are named."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from core.db import make_engine
from core.demo_data import seed_demo
from core.doctor import run_doctor
from core.errors import DemoDataRefused, InsufficientPrivilege
from tests.core.schemas import SHOP
from tests.support.sql import run_sql
from usecases.render.doctor import render_doctor


def test_seed_demo_is_idempotent_and_doctor_reads_it(engine: Engine) -> None:
    with engine.begin() as conn:
        first = seed_demo(conn, routes=2_000)
    with engine.begin() as conn:
        again = seed_demo(conn, routes=2_000)
    assert first.created and not again.created
    assert first.airports > 28_000 and first.airlines == 300 and first.routes == 2_000
    assert again == first.__class__(False, first.airports, first.airlines, first.routes)
    with engine.connect() as conn:
        mumbai = conn.execute(sa.text("SELECT COUNT(*) FROM airports WHERE city = 'Mumbai'"))
        assert mumbai.scalar_one() >= 2
        report = run_doctor(conn)
    assert report.healthy
    text = render_doctor(report)
    for expected in ("airports", "airlines", "routes", "watched", "secure_timestamp"):
        assert expected in text
    routes = next(t.info for t in report.tables if t.info.name == "routes")
    assert {(fk.child_columns, fk.parent_table, fk.on_delete) for fk in routes.outgoing} == {
        (("airline_id",), "airlines", "RESTRICT"),
        (("origin_id",), "airports", "CASCADE"),
        (("destination_id",), "airports", "CASCADE"),
    }


def test_seed_demo_refuses_a_database_with_other_tables(engine: Engine) -> None:
    run_sql(engine, "CREATE TABLE payroll (id INT PRIMARY KEY)")
    with engine.begin() as conn, pytest.raises(DemoDataRefused, match="payroll"):
        seed_demo(conn)


def test_doctor_advises_on_weak_tables(engine: Engine) -> None:
    run_sql(engine, *SHOP)
    with engine.connect() as conn:
        report = run_doctor(conn)
    advice = "\n".join(report.advice)
    assert "`customers` uses implicit period columns" in advice
    assert "`stock` has no index on `trx_end`" in advice
    assert "`notes` references versioned customers but keeps no history" in advice
    stock = next(t for t in report.tables if t.info.name == "stock")
    assert stock.stats is not None and stock.stats.versions_since is not None
    audit = next(t for t in report.tables if t.info.name == "audit_log")
    assert audit.stats is None and "neither a primary key" in (audit.info.problem or "")


def test_doctor_names_the_missing_grant(engine: Engine, database_url: str) -> None:
    run_sql(engine, *SHOP)
    user, password = f"fv_{secrets.token_hex(4)}", secrets.token_hex(8)
    schema = make_url(database_url).database
    run_sql(
        engine,
        f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'",
        f"GRANT SELECT (id) ON `{schema}`.customers TO '{user}'@'%'",
    )
    limited = make_engine(make_url(database_url).set(username=user, password=password))
    try:
        with limited.connect() as conn:
            report = run_doctor(conn)
        (bad,) = [t for t in report.tables if t.error]
        assert bad.info.name == "customers"
        assert f"GRANT SELECT ON `{schema}`.`customers`" in (bad.error or "")
        assert f"`{schema}`.`customers`" in render_doctor(report)
        assert not report.healthy
        run_sql(engine, f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{user}'@'%'")
        with limited.connect() as conn, pytest.raises(InsufficientPrivilege, match="GRANT SELECT"):
            run_doctor(conn)
    finally:
        limited.dispose()
        run_sql(engine, f"DROP USER '{user}'@'%'")
