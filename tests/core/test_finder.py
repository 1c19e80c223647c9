"""The restore point on the real server: exact, explained, and honest about later writes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.catalogue import Catalogue, load_catalogue
from core.errors import InvalidInput, UnknownTable, UnwatchableTable
from core.finder import Finding, NoDamageFound, find_restore_point
from core.history import list_events
from core.judge import Rules
from core.plan import build_plan
from core.restore import execute_plan
from core.timetravel import travel
from core.timeutil import ONE_MICROSECOND
from tests.core.detect_schema import STATIONS
from tests.support.sql import now, run_sql


@pytest.fixture
def stations(engine: Engine) -> Engine:
    run_sql(engine, *STATIONS, "CREATE TABLE notes (id INT PRIMARY KEY)")
    for i in range(1, 6):  # routine traffic: small updates
        run_sql(engine, f"UPDATE trips SET fare = fare + 1 WHERE id = {i}")
    return engine


def run_sql_rows(engine: Engine, sql: str) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [(int(a), int(b)) for a, b in conn.execute(sa.text(sql))]


def find(engine: Engine, table: str = "stations", **kw: object) -> Finding:
    with engine.connect() as conn:
        return find_restore_point(conn, load_catalogue(conn), table, **kw)  # type: ignore[arg-type]


def instants(engine: Engine, since: datetime) -> list[datetime]:
    with engine.connect() as conn:
        found = list_events(conn, load_catalogue(conn), since=since, tables=["stations"])
    return [e.instant for e in found]


def test_single_statement_restore_point_is_one_microsecond_before(stations: Engine) -> None:
    t0 = now(stations)
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    (damage_at,) = instants(stations, t0)
    finding = find(stations)
    assert finding.restore_point == damage_at - ONE_MICROSECOND
    assert finding.confidence == "exact" and finding.method == "statement size"
    assert finding.rows_before == 1000 and finding.rows_now == 900 and finding.counts_exact


def test_cascade_is_part_of_the_damage(stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    totals = find(stations).damage_totals()
    assert (totals["stations"].deleted, totals["trips"].deleted) == (100, 300)


def test_batched_deletion_restore_point_precedes_the_first_batch(stations: Engine) -> None:
    t0 = now(stations)
    for batch in range(20):
        low = 1 + batch * 10
        run_sql(stations, f"DELETE FROM stations WHERE id BETWEEN {low} AND {low + 9}")
    first = instants(stations, t0)[0]
    finding = find(stations)
    assert finding.restore_point == first - ONE_MICROSECOND
    assert len(finding.damage) == 20 and finding.method == "burst of statements"


def test_latest_damage_wins_and_later_writes_form_the_loss_window(stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE id <= 100")  # an older disaster
    t1 = now(stations)
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    run_sql(stations, "INSERT INTO stations VALUES (5001, 'NEW001', 'New', 'Pune', NULL)")
    run_sql(stations, "UPDATE stations SET name = 'Renamed' WHERE id = 101")
    finding = find(stations, rules=Rules(group_window_s=0))  # two disasters, not one burst
    assert finding.damage[0].instant > t1
    loss = finding.loss
    assert (loss.statements, loss.inserted, loss.updated, loss.deleted) == (2, 1, 1, 0)
    before = find(stations, before=t1, rules=Rules(group_window_s=0))  # end the window early
    assert before.damage[0].instant < t1


def test_corrupting_update_found_by_fk_check(stations: Engine) -> None:
    t0 = now(stations)
    with stations.begin() as conn:
        conn.execute(sa.text("SET SESSION foreign_key_checks = 0"))
        conn.execute(sa.text("UPDATE trips SET station_id = station_id + 5000 WHERE id <= 30"))
    run_sql(stations, "UPDATE trips SET fare = 1 WHERE id = 2999")  # legit, later
    with pytest.raises(NoDamageFound):
        find(stations, table="trips")  # 30 rows: too small to be judged by size
    finding = find(stations, table="trips", check="fk")
    with stations.connect() as conn:
        found = list_events(conn, load_catalogue(conn), since=t0, tables=["trips"])
    assert finding.restore_point == found[0].instant - ONE_MICROSECOND
    assert finding.probes[0].health == "0 dangling references" and finding.probes[0].healthy
    assert any(p.health == "30 dangling references" for p in finding.probes)


def test_corrupting_update_found_by_column_check(stations: Engine) -> None:
    t0 = now(stations)
    for i in range(6):
        run_sql(stations, f"UPDATE stations SET name = 'Tidy {i}' WHERE id = {900 + i}")
    run_sql(stations, "UPDATE stations SET opened = NULL WHERE id BETWEEN 200 AND 229")
    for i in range(6):
        run_sql(stations, f"UPDATE stations SET name = 'Later {i}' WHERE id = {950 + i}")
    bad = instants(stations, t0)[6]
    finding = find(stations, check="opened")
    assert finding.restore_point == bad - ONE_MICROSECOND
    assert 3 <= len(finding.probes) <= 2 + 4  # log2(13 events) probes, plus start and end
    assert finding.probes[0].health == "0.0% NULL"


@pytest.mark.parametrize(
    ("table", "kw", "error", "match"),
    [
        ("nope", {}, UnknownTable, "no table `nope`"),
        ("notes", {}, UnwatchableTable, "not system-versioned"),
        ("stations", {"check": "colour"}, InvalidInput, "not a check"),
        ("stations", {}, NoDamageFound, "no statement changed the table"),
        ("trips", {}, NoDamageFound, "none of the 5 statements"),
    ],
)
def test_errors_are_one_sentence(
    stations: Engine, table: str, kw: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as caught:
        find(stations, table=table, **kw)
    assert "\n" not in str(caught.value)


def test_window_in_the_wrong_order(stations: Engine) -> None:
    t = now(stations)
    with pytest.raises(InvalidInput, match="must come before"):
        find(stations, since=t, before=t - timedelta(hours=1))


def test_time_travel_before_the_damage(stations: Engine) -> None:
    run_sql(stations, "DELETE FROM stations WHERE city = 'Mumbai'")
    damage = find(stations)
    with stations.connect() as conn:
        catalogue: Catalogue = load_catalogue(conn)
        view = travel(conn, catalogue, "stations", damage.restore_point)
        with pytest.raises(InvalidInput, match="keeps history only from"):
            travel(conn, catalogue, "stations", damage.restore_point - timedelta(days=30))
    assert (view.rows_then, view.rows_now) == (1000, 900)
    assert (view.diff.deleted, view.diff.inserted, view.diff.changed) == (100, 0, 0)
    assert view.next == damage.damage[0].instant
    assert view.previous is None  # the only earlier write was the bulk load (an insert)


def test_small_writes_beside_a_mass_update_are_not_damage(stations: Engine) -> None:
    before = dict(run_sql_rows(stations, "SELECT id, fare FROM trips"))
    run_sql(stations, "UPDATE trips SET fare = fare + 1 WHERE id = 7")  # legitimate, before
    run_sql(stations, "UPDATE trips SET fare = -1 WHERE id > 100")  # the damage: 2,900 rows
    run_sql(stations, "UPDATE trips SET fare = fare + 1 WHERE id = 50")  # legitimate, after
    finding = find(stations, "trips")
    (damage,) = finding.damage
    assert damage.for_table("trips") is not None and damage.for_table("trips").updated == 2900
    assert finding.loss.statements == 1 and finding.loss.updated == 1  # the write after
    with stations.connect() as conn:
        catalogue = load_catalogue(conn)
        plan = build_plan(
            conn,
            catalogue,
            table="trips",
            events=list(finding.damage),
            restore_point=finding.restore_point,
        )
    assert [(s.table, s.action.value, s.writes) for s in plan.steps] == [("trips", "revert", 2900)]
    execute_plan(stations, catalogue, plan)
    after = dict(run_sql_rows(stations, "SELECT id, fare FROM trips"))
    assert after[7] == before[7] + 1 and after[50] == before[50] + 1  # both legitimate writes kept
    assert all(after[i] == before[i] for i in range(101, 3001))


BIG = 250_000  # above SMALL_TABLE: counting inserts would mean a scan of row_start


@pytest.mark.parametrize("start_indexed", [False, True])
def test_large_table_with_only_row_end_indexed(engine: Engine, start_indexed: bool) -> None:
    """The answer stays exact without an index on row_start; the data-loss window then
    leaves out rows inserted since (and says so) rather than scanning every version."""
    keys = "INDEX (row_end), INDEX (row_start)" if start_indexed else "INDEX (row_end)"
    run_sql(
        engine,
        "CREATE TABLE big (id INT PRIMARY KEY, v INT NOT NULL,"
        " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
        " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
        f" PERIOD FOR SYSTEM_TIME (row_start, row_end), {keys}) WITH SYSTEM VERSIONING",
        f"INSERT INTO big (id, v) SELECT seq, seq % 97 FROM seq_1_to_{BIG}",
    )
    for i in range(1, 6):
        run_sql(engine, f"UPDATE big SET v = v + 1 WHERE id = {100_000 + i}")
    t0 = now(engine)
    run_sql(engine, "DELETE FROM big WHERE id <= 50000")
    run_sql(
        engine, f"INSERT INTO big (id, v) VALUES ({BIG + 1}, 1), ({BIG + 2}, 2), ({BIG + 3}, 3)"
    )
    run_sql(engine, "UPDATE big SET v = -1 WHERE id IN (60001, 60002)")
    run_sql(engine, "DELETE FROM big WHERE id = 70001")
    run_sql(engine, "ANALYZE TABLE big")  # the server's row estimate, history included
    with engine.connect() as conn:
        events = list_events(conn, load_catalogue(conn), since=t0, tables=["big"])
    finding = find(engine, "big")
    assert finding.restore_point == events[0].instant - ONE_MICROSECOND
    assert finding.damage_totals()["big"].deleted == 50_000
    loss = finding.loss
    assert (loss.updated, loss.deleted, loss.last) == (2, 1, events[-1].instant)
    if start_indexed:
        assert (loss.statements, loss.inserted, loss.inserts_counted) == (3, 3, True)
    else:  # the insert-only statement is not seen: a lower bound, marked as one
        assert (loss.statements, loss.inserted, loss.inserts_counted) == (2, 0, False)
        assert not finding.counts_exact
