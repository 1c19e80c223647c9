"""Verification compares the footprint with history row by row, and can fail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.catalogue import load_catalogue
from core.plan import RestorePlan
from core.restore import StalePlan, ValidationFailed, execute_plan
from core.verify import verify
from tests.acceptance import sakila
from tests.core.detect_schema import STATIONS
from tests.support.oracle import snapshot
from tests.support.plans import plan_since
from tests.support.sql import now, run_sql


def plan_last(engine: Engine, table: str, *sql: str) -> RestorePlan:
    t0 = now(engine)
    run_sql(engine, *sql)
    return plan_since(engine, t0, table)


def test_unrestored_damage_is_reported_per_table_with_keys(engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    plan = plan_last(engine, "stations", "DELETE FROM stations WHERE city = 'Mumbai'")
    with engine.connect() as conn:
        result = verify(conn, plan.scope(load_catalogue(conn)), {})
    checks = {c.table: (c.rows, c.differ) for c in result.tables}
    assert checks == {"stations": (100, 100), "trips": (300, 300)} and not result.ok
    assert "`stations`: 100 of 100 rows differ from history" in result.failures()
    assert "10: missing" in result.failures()  # station 10 is a Mumbai station


def test_a_trigger_created_after_the_preview_fails_verification_and_rolls_back(
    engine: Engine,
) -> None:
    run_sql(engine, *STATIONS)
    plan = plan_last(engine, "stations", "DELETE FROM stations WHERE city = 'Mumbai'")
    run_sql(
        engine,
        "CREATE TRIGGER late BEFORE INSERT ON trips FOR EACH ROW SET NEW.fare = NEW.fare + 1",
    )
    untouched = snapshot(engine)
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    with pytest.raises(ValidationFailed) as failed:
        execute_plan(engine, catalogue, plan)
    said = str(failed.value)
    assert "`trips`: 300 of 300 rows differ from history" in said and ": fare" in said
    assert "`stations`" not in said  # per table: the stations are fine
    assert "Rolled back, nothing changed" in said
    assert snapshot(engine) == untouched


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE stations SET name = UPPER(name) WHERE id = 5",  # case only: 'a' = 'A' here
        "UPDATE stations SET name = CONCAT(name, ' ') WHERE id = 5",  # PAD SPACE: 'a' = 'a '
    ],
)
def test_a_byte_level_change_since_the_preview_makes_the_plan_stale(
    engine: Engine, change: str
) -> None:
    run_sql(engine, *STATIONS)
    plan = plan_last(engine, "stations", "UPDATE stations SET opened = NULL WHERE id <= 300")
    run_sql(engine, change)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 'ab' = 'AB ', 'ab' = 'AB'")).one() == (1, 1)
        catalogue = load_catalogue(conn)
    with pytest.raises(StalePlan):
        execute_plan(engine, catalogue, plan)


def test_a_geometry_change_since_the_preview_makes_the_plan_stale(engine: Engine) -> None:
    run_sql(engine, *sakila.SETUP)
    plan = plan_last(
        engine, "address", "UPDATE address SET phone = '000' WHERE address_id BETWEEN 650 AND 660"
    )
    run_sql(engine, "UPDATE address SET location = POINT(3, 4) WHERE address_id = 655")
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    with pytest.raises(StalePlan):
        execute_plan(engine, catalogue, plan)


def test_a_parent_deleted_after_the_preview_fails_the_reference_check(engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    plan = plan_last(engine, "trips", "DELETE FROM trips WHERE station_id IN (5, 6)")
    assert [(s.table, s.writes) for s in plan.steps] == [("trips", 6)]
    run_sql(engine, "DELETE FROM stations WHERE id = 5")  # not a key of the plan: no staleness
    untouched = snapshot(engine)
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    with pytest.raises(ValidationFailed, match=r"`trips`: .* and 3 references would dangle"):
        execute_plan(engine, catalogue, plan)
    assert snapshot(engine) == untouched


def test_history_purged_after_the_preview_makes_the_plan_stale(engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    plan = plan_last(engine, "stations", "DELETE FROM stations WHERE city = 'Mumbai'")
    run_sql(engine, "DELETE HISTORY FROM trips")  # the cascaded rows' versions are gone
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    with pytest.raises(StalePlan):
        execute_plan(engine, catalogue, plan)
