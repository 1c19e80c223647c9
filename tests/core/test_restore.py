"""Plans and execution on the real server: surgical, exact, all-or-nothing."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.catalogue import load_catalogue
from core.finder import find_restore_point
from core.history import list_events
from core.judge import Rules
from core.plan import RestorePlan, build_plan
from core.restore import RestoreFailed, StalePlan, execute_plan, restore_events
from core.timeutil import ONE_MICROSECOND
from tests.core.detect_schema import STATIONS
from tests.support.sql import now, run_sql

SNAPSHOT = "SELECT id, code, name, city, opened FROM stations ORDER BY id"


@pytest.fixture
def stations(engine: Engine) -> Engine:
    run_sql(engine, *STATIONS)
    return engine


def rows(engine: Engine, sql: str = SNAPSHOT) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def plan_for_latest_damage(engine: Engine, check: str | None = None) -> RestorePlan:
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        finding = find_restore_point(
            conn, catalogue, "stations", check=check, rules=Rules(group_window_s=0)
        )
        return build_plan(
            conn,
            catalogue,
            table="stations",
            events=list(finding.damage),
            restore_point=finding.restore_point,
        )


def execute(engine: Engine, plan: RestorePlan) -> None:
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    execute_plan(engine, catalogue, plan)


def test_revert_restores_values_and_keeps_later_writes(stations: Engine) -> None:
    before = rows(stations)
    run_sql(stations, "UPDATE stations SET name = 'oops', opened = NULL WHERE id <= 300")
    run_sql(stations, "UPDATE stations SET name = 'legit later' WHERE id = 999")
    plan = plan_for_latest_damage(stations)
    assert [(t.table, t.revert, t.conflicts) for t in plan.tables] == [("stations", 300, 0)]
    execute(stations, plan)
    after = rows(stations)
    assert after[:300] == before[:300]
    assert after[998][2] == "legit later"


def test_conflicts_are_skipped_and_reported(stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    run_sql(stations, "INSERT INTO stations VALUES (10, 'TAKEN', 'Someone else', 'Pune', NULL)")
    run_sql(stations, "UPDATE stations SET name = 'edited' WHERE id = 5")  # not in the plan
    plan = plan_for_latest_damage(stations)
    summary = {t.table: t for t in plan.tables}
    assert (summary["stations"].reinsert, summary["stations"].conflicts) == (99, 1)
    assert summary["stations"].conflict_sample == ("10",)
    # station 10's trips belonged to the old station 10: not re-attached to the new one
    assert (summary["trips"].reinsert, summary["trips"].held) == (297, 3)
    execute(stations, plan)
    restored = dict((r[0], r) for r in rows(stations))
    assert (
        len(restored) == 1000 and restored[10][2] == "Someone else" and restored[5][2] == "edited"
    )
    assert rows(stations, "SELECT COUNT(*) FROM trips") == [(2997,)]
    assert rows(stations, "SELECT COUNT(*) FROM trips WHERE station_id = 10") == [(0,)]


def test_stale_plan_writes_nothing(stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    plan = plan_for_latest_damage(stations)
    run_sql(stations, "INSERT INTO stations VALUES (20, 'LATE', 'Late', 'Goa', NULL)")
    snapshot = rows(stations)
    with pytest.raises(StalePlan, match="changed since the preview"):
        execute(stations, plan)
    assert rows(stations) == snapshot


def test_killed_connection_mid_restore_rolls_back_and_can_retry(stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")  # cascades to trips
    plan = plan_for_latest_damage(stations)
    assert [s.table for s in plan.steps] == ["stations", "trips"]  # parents first
    before = rows(stations)
    blocker = stations.connect()
    blocker.execute(sa.text("SET SESSION foreign_key_checks = 0"))
    blocker.execute(sa.text("INSERT INTO trips VALUES (10, 10, 1)"))  # holds trips key 10
    errors: list[Exception] = []
    worker = threading.Thread(target=lambda: _capture(errors, execute, stations, plan))
    worker.start()
    victim = _wait_for_query(stations, "INSERT INTO `trips`")
    run_sql(stations, f"KILL CONNECTION {victim}")
    worker.join(30)
    blocker.rollback()
    blocker.close()
    assert len(errors) == 1 and isinstance(errors[0], RestoreFailed)
    assert rows(stations) == before  # step 1 (stations) was rolled back too
    execute(stations, plan)  # retry works
    assert len(rows(stations)) == 1000


def test_undo_returns_to_the_post_restore_state(stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    damaged = rows(stations)
    plan = plan_for_latest_damage(stations)
    with stations.connect() as conn:
        catalogue = load_catalogue(conn)
    outcome = execute_plan(stations, catalogue, plan)
    assert outcome.rows == {"stations": {"reinsert": 100}, "trips": {"reinsert": 300}}
    with stations.connect() as conn:
        events = restore_events(conn, catalogue, plan, outcome)
        undo = build_plan(
            conn, catalogue, table="stations", events=events, restore_point=outcome.started
        )
    assert {(t.table, t.remove) for t in undo.tables} == {("stations", 100), ("trips", 300)}
    assert [s.table for s in undo.steps] == ["trips", "stations"]  # children removed first
    execute_plan(stations, catalogue, undo)
    assert rows(stations) == damaged


def _capture(errors: list[Exception], fn: object, *args: object) -> None:
    try:
        fn(*args)  # type: ignore[operator]
    except Exception as exc:
        errors.append(exc)


def _wait_for_query(engine: Engine, prefix: str) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE :p"),
                {"p": prefix + "%"},
            ).first()
        if found:
            return int(found[0])
        time.sleep(0.05)
    raise TimeoutError(f"no query starting {prefix!r} appeared")


LEDGER = (
    "CREATE TABLE ledger (id INT PRIMARY KEY, v INT NOT NULL,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING",
    "INSERT INTO ledger (id, v) SELECT seq, seq FROM seq_1_to_100",
)


def ledger_plan(engine: Engine) -> RestorePlan:
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        finding = find_restore_point(conn, catalogue, "ledger", rules=Rules(group_window_s=0))
        return build_plan(
            conn,
            catalogue,
            table="ledger",
            events=list(finding.damage),
            restore_point=finding.restore_point,
        )


def test_emptied_table_counts_its_few_standing_rows_exactly(engine: Engine) -> None:
    """A table the damage emptied is read from its current rows, not from a lookup per
    lost row: none standing, then two put back by hand (one as it was, one not)."""
    run_sql(engine, *LEDGER)
    run_sql(engine, "DELETE FROM ledger")
    (step,) = ledger_plan(engine).steps
    assert (step.rows, step.conflicts, step.done, step.writes) == (100, 0, 0, 100)
    run_sql(engine, "INSERT INTO ledger (id, v) VALUES (7, 7), (8, -8)")
    plan = ledger_plan(engine)
    (step,) = plan.steps
    assert (step.rows, step.conflicts, step.done, step.writes) == (100, 1, 1, 98)
    execute(engine, plan)
    expected = [(i, -8 if i == 8 else i) for i in range(1, 101)]
    assert rows(engine, "SELECT id, v FROM ledger ORDER BY id") == expected


def test_revert_after_most_rows_went_counts_the_gone_as_conflicts(engine: Engine) -> None:
    run_sql(engine, *LEDGER)
    run_sql(engine, "UPDATE ledger SET v = -v")  # the damage: every row
    run_sql(engine, "DELETE FROM ledger WHERE id > 3")  # later, legitimate: 97 rows gone
    run_sql(engine, "UPDATE ledger SET v = 100 WHERE id = 3")  # later: changed since
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        ledger = catalogue.get("ledger")
        (damage,) = [
            e
            for e in list_events(
                conn, catalogue, since=now(engine) - timedelta(minutes=1), tables=["ledger"]
            )
            if e.changes[0].updated == 100
        ]
        plan = build_plan(
            conn,
            catalogue,
            table="ledger",
            events=[damage],
            restore_point=damage.instant - ONE_MICROSECOND,
        )
        assert ledger.key == ("id",)
    (step,) = plan.steps
    assert (step.rows, step.conflicts, step.done, step.writes) == (100, 98, 0, 2)
    execute(engine, plan)
    assert rows(engine, "SELECT id, v FROM ledger ORDER BY id") == [(1, 1), (2, 2), (3, 100)]
