"""A statement's footprint is read from history in every table; its target is named right."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from core.catalogue import load_catalogue
from core.footprint import downstream, footprint, primary_table
from core.history import ChangeEvent, list_events
from tests.acceptance import edge, sakila
from tests.support.sql import now, run_sql


def _statement(engine: Engine, *sql: str) -> tuple[ChangeEvent, ...]:
    """Run ``sql`` in one transaction; its event(s) as the watcher lists them."""
    t0 = now(engine)
    run_sql(engine, *sql)
    with engine.connect() as conn:
        return tuple(list_events(conn, load_catalogue(conn), since=t0))


def test_footprint_reaches_grandchildren_from_the_statement_alone(engine: Engine) -> None:
    run_sql(engine, *edge.THREE_LEVELS.setup)
    (event,) = _statement(engine, "DELETE FROM customers WHERE region = 'EU'")
    bare = ChangeEvent(event.instant, event.transaction_id, ())  # only the point is known
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        (full,), lost = footprint(conn, catalogue, [bare])
    deleted = {c.table: c.deleted for c in full.changes}
    assert deleted == {"customers": 250, "orders": 2000, "order_lines": 12000} and lost == []
    assert downstream(catalogue, "customers") == ["customers", "orders", "order_lines"]


def test_the_alert_names_the_table_the_statement_targeted(engine: Engine) -> None:
    run_sql(engine, *edge.SET_NULL.setup)
    (nulled,) = _statement(engine, "DELETE FROM teams WHERE id BETWEEN 101 AND 200")
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    players, teams = (nulled.for_table(t) for t in ("players", "teams"))
    assert players is not None and teams is not None and players.updated > teams.deleted
    assert primary_table(catalogue, nulled) == "teams"  # not the larger SET NULL child


def test_trigger_and_on_update_cascade_children_are_not_the_target(engine: Engine) -> None:
    run_sql(engine, *sakila.SETUP)
    (films,) = _statement(engine, "DELETE FROM film WHERE film_id IN (501, 502)")
    (keys,) = _statement(
        engine, "UPDATE country SET country_id = country_id + 1000 WHERE country_id <= 60"
    )
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    assert {c.table for c in films.changes} == {"film", "film_actor", "film_text"}
    assert primary_table(catalogue, films) == "film"  # film_text is written by del_film
    assert primary_table(catalogue, keys) == "country"  # city was rewritten by the cascade
    assert "film_text" in downstream(catalogue, "film")


def test_what_cannot_be_restored_is_named_with_its_reason(engine: Engine) -> None:
    run_sql(
        engine,
        "CREATE TABLE parent (id INT PRIMARY KEY) WITH SYSTEM VERSIONING",
        "CREATE TABLE plain_child (id INT PRIMARY KEY, parent_id INT,"
        " FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)",
        "CREATE TABLE keyless_log (msg VARCHAR(20)) WITH SYSTEM VERSIONING",
        "CREATE TABLE myisam_log (id INT PRIMARY KEY, ref INT) ENGINE=MyISAM"
        " WITH SYSTEM VERSIONING",
        "CREATE TRIGGER parent_ad AFTER DELETE ON parent FOR EACH ROW"
        " INSERT INTO keyless_log VALUES (CONCAT('gone ', OLD.id))",
        "CREATE TRIGGER parent_ad2 AFTER DELETE ON parent FOR EACH ROW FOLLOWS parent_ad"
        " INSERT INTO myisam_log VALUES (OLD.id, OLD.id)",
        "INSERT INTO parent SELECT seq FROM seq_1_to_10",
        "INSERT INTO plain_child SELECT seq, seq FROM seq_1_to_10",
    )
    (event,) = [
        e for e in _statement(engine, "DELETE FROM parent WHERE id <= 4") if e.for_table("parent")
    ]
    with engine.connect() as conn:
        _, lost = footprint(conn, load_catalogue(conn), [event])
    said = {u.table: u.describe() for u in lost}
    assert "keeps no history" in said["plain_child"]
    assert (
        said["keyless_log"].startswith("4 rows of `keyless_log`")
        and "no row identity" in said["keyless_log"]
    )
    assert "cannot roll back" in said["myisam_log"]


def test_a_child_versioned_the_other_way_is_named_not_silently_missed(engine: Engine) -> None:
    run_sql(
        engine,
        "CREATE TABLE acct (id INT PRIMARY KEY,"
        " s BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE,"
        " e BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,"
        " PERIOD FOR SYSTEM_TIME (s, e)) ENGINE=InnoDB WITH SYSTEM VERSIONING",
        "CREATE TABLE entry (id INT PRIMARY KEY, acct_id INT,"
        " FOREIGN KEY (acct_id) REFERENCES acct (id) ON DELETE CASCADE) WITH SYSTEM VERSIONING",
        "INSERT INTO acct SELECT seq FROM seq_1_to_10",
        "INSERT INTO entry SELECT seq, 1 + seq % 10 FROM seq_1_to_30",
    )
    events = _statement(engine, "DELETE FROM acct WHERE id <= 3")
    (trx,) = [e for e in events if e.transaction_id is not None]
    with engine.connect() as conn:
        _, lost = footprint(conn, load_catalogue(conn), [trx])
    (entry,) = [u for u in lost if u.table == "entry"]
    assert "stamped by timestamp and `acct`'s by transaction" in entry.describe()
