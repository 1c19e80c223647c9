"""The watcher on the real server: one incident per disaster, none for routine work."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.judge import Rules
from core.state.store import StateStore
from core.watcher import WatchConfig, Watcher
from tests.core.detect_schema import STATIONS
from tests.support.sql import run_sql

SOURCE = "test-source"
VERSIONED_LEDGER = (
    "CREATE TABLE ledger (id INT PRIMARY KEY, v INT,"
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)) WITH SYSTEM VERSIONING"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    state = StateStore.from_url(f"sqlite:///{tmp_path}/state.db")
    state.create_tables()
    yield state
    state.dispose()


def make_watcher(engine: Engine, store: StateStore, **rules: float) -> Watcher:
    config = WatchConfig(rules=Rules(**rules))  # type: ignore[arg-type]
    return Watcher(engine=engine, store=store, config=config, source=SOURCE)


@pytest.fixture
def watcher(engine: Engine, store: StateStore) -> Watcher:
    run_sql(engine, *STATIONS)
    w = make_watcher(engine, store)
    w.poll()  # first start: learns the baseline, alerts on nothing old
    assert store.outbox.pending_count() == 0
    return w


def outbox_kinds(store: StateStore) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT kind FROM fv_outbox ORDER BY id"))
        return [r[0] for r in rows]


def test_mass_delete_opens_one_incident_with_impact_and_sample(
    engine: Engine, store: StateStore, watcher: Watcher
) -> None:
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    report = watcher.poll()
    (incident_id,) = report.opened
    assert watcher.poll().opened == ()  # nothing twice
    incident = store.incidents.get(incident_id)
    assert incident is not None and incident.table == "stations"
    s = incident.summary
    assert (s.deleted, s.updated, s.statements, s.rows_before) == (100, 0, 1, 1000)
    assert s.share == pytest.approx(0.1)
    assert [i.model_dump() for i in s.impact] == [
        {
            "table": "trips",
            "via": "fk_trips_station ON DELETE CASCADE",
            "cascaded": 300,
            "changed": 0,
            "dangling": 0,
            "versioned": True,
        }
    ]
    assert s.sample.columns == ["id", "code", "name", "city"]
    assert s.sample.rows[0] == ["10", "S00010", "Station 10", "Mumbai"]
    assert len(s.sample.rows) == 5 and s.sample.more == 95
    events = store.incidents.events(incident_id)
    assert {e.table for e in events} == {"stations", "trips"}
    assert len({e.instant for e in events}) == 1  # cascade: one instant
    assert outbox_kinds(store) == ["incident_opened"]


def test_small_legitimate_delete_is_not_an_incident(
    engine: Engine, store: StateStore, watcher: Watcher
) -> None:
    run_sql(engine, "DELETE FROM trips WHERE id IN (1, 2, 3)")
    report = watcher.poll()
    assert report.events == 1 and report.opened == ()
    assert outbox_kinds(store) == []


def test_delete_without_fk_checks_counts_dangling_references(
    engine: Engine, store: StateStore, watcher: Watcher
) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("SET SESSION foreign_key_checks = 0"))
        conn.execute(sa.text("DELETE FROM stations WHERE id <= 20"))
        conn.execute(sa.text("SET SESSION foreign_key_checks = 1"))
    (incident_id,) = watcher.poll().opened  # 20 rows alone are below 50; 60 orphans are not
    incident = store.incidents.get(incident_id)
    assert incident is not None
    (impact,) = incident.summary.impact
    assert (impact.table, impact.cascaded, impact.dangling) == ("trips", 0, 60)


def test_mass_update_is_judged_too(engine: Engine, store: StateStore, watcher: Watcher) -> None:
    run_sql(engine, "UPDATE stations SET city = 'Unknown' WHERE id <= 300")
    run_sql(engine, "UPDATE stations SET name = name")  # a no-op rewrite is not damage
    opened = watcher.poll().opened
    assert len(opened) == 1
    incident = store.incidents.get(opened[0])
    assert incident is not None
    assert (incident.summary.deleted, incident.summary.updated) == (0, 300)


def test_batched_cleanup_is_one_incident(
    engine: Engine, store: StateStore, watcher: Watcher
) -> None:
    for batch in range(20):
        low = 501 + batch * 10
        run_sql(engine, f"DELETE FROM stations WHERE id BETWEEN {low} AND {low + 9}")
    watcher.poll()
    for batch in range(20, 25):  # more batches in a later poll join the same incident
        low = 501 + batch * 10
        run_sql(engine, f"DELETE FROM stations WHERE id BETWEEN {low} AND {low + 9}")
    watcher.poll()
    with store.engine.connect() as conn:
        ids = conn.execute(sa.text("SELECT id FROM fv_incidents")).scalars().all()
    assert len(ids) == 1
    incident = store.incidents.get(ids[0])
    assert incident is not None
    assert (incident.summary.deleted, incident.summary.statements) == (250, 25)
    kinds = outbox_kinds(store)
    assert kinds[0] == "incident_opened" and kinds.count("incident_opened") == 1
    first = min(e.instant for e in store.incidents.events(ids[0]))
    assert incident.first_instant == first


def test_restart_neither_realerts_nor_misses(
    engine: Engine, store: StateStore, watcher: Watcher
) -> None:
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    (first,) = watcher.poll().opened
    run_sql(engine, "DELETE FROM stations WHERE id BETWEEN 901 AND 999")  # while "down"
    reborn = make_watcher(engine, store)
    report = reborn.poll()
    assert report.events == 1 and report.opened == () and report.grew == (first,)
    assert reborn.poll().events == 0
    assert outbox_kinds(store) == ["incident_opened", "incident_grew", "root_update"]
    incident = store.incidents.get(first)
    assert incident is not None and incident.summary.deleted == 100 + 90


def test_two_watchers_at_once_record_one_incident(
    engine: Engine, store: StateStore, watcher: Watcher, tmp_path: Path
) -> None:
    other_store = StateStore.from_url(f"sqlite:///{tmp_path}/state.db")
    other = make_watcher(engine, other_store)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    barrier = threading.Barrier(2)
    results: list[tuple[str, ...]] = []

    def run(w: Watcher) -> None:
        barrier.wait()
        results.append(w.poll().opened)

    threads = [threading.Thread(target=run, args=(w,)) for w in (watcher, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other_store.dispose()
    assert sorted(len(r) for r in results) == [0, 1]
    assert outbox_kinds(store) == ["incident_opened"]


def test_late_commit_behind_the_watermark_is_caught(
    engine: Engine, store: StateStore, watcher: Watcher
) -> None:
    with engine.connect() as slow:
        slow.execute(sa.text("DELETE FROM stations WHERE city = 'Mumbai'"))  # stamped now
        assert watcher.poll().opened == ()  # not committed yet: invisible
        slow.commit()
    assert len(watcher.poll().opened) == 1


def test_probe_is_cheap_and_sees_changes(
    engine: Engine, store: StateStore, watcher: Watcher
) -> None:
    watcher.probe()
    time.sleep(2.1)  # leave the hot period after set-up
    watcher.probe()  # tables whose hot period just ended are read once more, then not
    assert watcher.probe() == set()
    run_sql(engine, "DELETE FROM trips WHERE id = 10")
    assert watcher.probe() == {"trips"}
    assert watcher.probe() == {"trips"}  # still hot: UPDATE_TIME has one-second precision


def test_a_table_is_read_once_after_its_hot_period_however_slow_the_probe(
    engine: Engine, watcher: Watcher
) -> None:
    """A commit in the same second as the one that made a table hot does not move
    UPDATE_TIME; with probes further apart than the hot period, the table must still be
    read once after the period ends, or that commit waits for the safety read."""
    watcher.probe()
    time.sleep(2.1)
    watcher.probe()
    assert watcher.probe() == set()
    run_sql(engine, "DELETE FROM trips WHERE id = 11")
    assert watcher.probe() == {"trips"}
    time.sleep(2.2)  # the next probe comes after the hot period: one more read
    assert watcher.probe() == {"trips"}
    assert watcher.probe() == set()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    sent: list[str] = []

    def record(conn: object, cursor: object, sql: str, *args: object) -> None:
        sent.append(sql)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_an_idle_tick_is_one_probe_and_a_moved_table_is_read_alone(
    engine: Engine, store: StateStore
) -> None:
    run_sql(engine, *STATIONS, VERSIONED_LEDGER, "INSERT INTO ledger SELECT seq, 0 FROM seq_1_to_9")
    w = make_watcher(engine, store)
    assert w.tick().full_read  # first start: everything is read once
    time.sleep(2.1)  # leave the hot period after set-up
    w.tick()  # the last read of tables whose hot period just ended
    with statements(engine) as idle:
        report = w.tick()
    assert not report.full_read and report.events == 0
    assert len(idle) == 1 and "information_schema" in idle[0]  # the probe, nothing else

    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    with statements(engine) as sent:
        report = w.tick()
    assert not report.full_read and len(report.opened) == 1
    history = [q for q in sent if "row_end" in q]
    assert history and not any("ledger" in q for q in history)  # the unmoved table is not read
    assert any("stations" in q for q in history)


def test_a_late_commit_is_caught_by_the_moved_table_read(engine: Engine, store: StateStore) -> None:
    run_sql(engine, *STATIONS)
    w = make_watcher(engine, store)
    w.tick()
    time.sleep(2.1)
    with engine.connect() as slow:
        slow.execute(sa.text("DELETE FROM stations WHERE city = 'Mumbai'"))  # stamped now
        time.sleep(1.5)
        assert w.tick().opened == ()  # not committed: UPDATE_TIME has not moved
        slow.commit()  # UPDATE_TIME moves now; row_end is 1.5 s behind the last read
    report = w.tick()
    assert not report.full_read and len(report.opened) == 1


def test_the_safety_read_covers_every_table_and_alone_moves_the_watermark(
    engine: Engine, store: StateStore
) -> None:
    run_sql(engine, *STATIONS)
    config = WatchConfig(full_read_every_s=1.0)
    w = Watcher(engine=engine, store=store, config=config, source=SOURCE)
    w.tick()
    mark = store.events.watermark(source=SOURCE)
    time.sleep(0.3)
    run_sql(engine, "DELETE FROM trips WHERE id = 10")
    assert not w.tick().full_read  # a moved-table read
    assert store.events.watermark(source=SOURCE) == mark
    time.sleep(1.0)
    assert w.tick().full_read
    moved = store.events.watermark(source=SOURCE)
    assert mark is not None and moved is not None and moved > mark


def test_with_many_tables_the_probe_is_spaced_so_its_cost_stays_flat(
    engine: Engine, store: StateStore
) -> None:
    """800 tables: the probe (which costs the server per table) runs at most every
    800 / PROBE_TABLES_PER_S s; ticks between read only hot tables and send nothing idle."""
    with engine.begin() as conn:
        for i in range(800):
            conn.execute(sa.text(f"CREATE TABLE t{i:03d} (id INT PRIMARY KEY)"))
    run_sql(engine, *STATIONS)
    w = make_watcher(engine, store)
    w.tick()
    time.sleep(2.1)
    w.tick()  # the last read of tables whose hot period just ended
    time.sleep(0.25)
    with statements(engine) as sent:
        w.tick()  # the gap (0.2 s) has passed: a probe
        w.tick()  # within the gap: nothing
    assert len(sent) == 1 and "information_schema" in sent[0], sent
    time.sleep(0.25)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    report = w.tick()
    assert len(report.opened) == 1  # a change is still found at the next probe
