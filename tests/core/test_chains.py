"""Several damaging statements on the same rows, and reverts of referenced UNIQUE values."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.catalogue import load_catalogue
from core.plan import RestorePlan
from core.restore import execute_plan
from tests.support import plans
from tests.support.sql import now, run_sql


def plan_since(engine: Engine, since: object, table: str, damage: int) -> RestorePlan:
    """The plan undoing the first ``damage`` statements on ``table`` since ``since``."""
    return plans.plan_since(engine, since, table, damage, tables=[table])


def rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def run(engine: Engine, plan: RestorePlan) -> None:
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    execute_plan(engine, catalogue, plan)


def test_a_row_two_statements_rewrote_and_someone_changed_since_is_skipped_once(
    engine: Engine,
) -> None:
    run_sql(engine, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(5)) WITH SYSTEM VERSIONING")
    run_sql(engine, "INSERT INTO t SELECT seq, 'a' FROM seq_1_to_20")
    t0 = now(engine)
    run_sql(engine, "UPDATE t SET v = 'x' WHERE id <= 10")
    run_sql(engine, "UPDATE t SET v = 'y' WHERE id <= 10")
    run_sql(engine, "UPDATE t SET v = 'z' WHERE id = 1")  # legitimate, later
    plan = plan_since(engine, t0, "t", 2)
    assert plan.rows == 9 * 2 and plan.skipped == 1  # one row, skipped once
    (summary,) = plan.tables
    assert summary.skipped == 1
    run(engine, plan)
    assert rows(engine, "SELECT id, v FROM t WHERE id <= 10 ORDER BY id") == [
        (1, "z"),
        *((i, "a") for i in range(2, 11)),
    ]


def test_an_older_statement_is_held_with_the_newer_one_on_the_same_key(engine: Engine) -> None:
    run_sql(
        engine,
        "CREATE TABLE p (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING",
        "CREATE TABLE c (id INT PRIMARY KEY, p_id INT, FOREIGN KEY (p_id) REFERENCES p (id))"
        " WITH SYSTEM VERSIONING",
        "INSERT INTO p SELECT seq, seq FROM seq_1_to_10",
    )
    t0 = now(engine)
    run_sql(engine, "DELETE FROM p WHERE id = 5")
    run_sql(engine, "INSERT INTO p VALUES (5, 500)")  # part of the same botched job
    run_sql(engine, "INSERT INTO c VALUES (1, 5)")  # legitimate: points at the new row 5
    plan = plan_since(engine, t0, "p", 2)
    run(engine, plan)  # neither removes the row c points at nor collides re-inserting it
    assert rows(engine, "SELECT id, v FROM p WHERE id = 5") == [(5, 500)]
    assert rows(engine, "SELECT COUNT(*) FROM c") == [(1,)]


def test_a_revert_keeps_a_unique_value_newer_rows_point_at(engine: Engine) -> None:
    run_sql(
        engine,
        "CREATE TABLE parent (id INT PRIMARY KEY, code CHAR(3) NOT NULL UNIQUE)"
        " WITH SYSTEM VERSIONING",
        "CREATE TABLE child (id INT PRIMARY KEY, code CHAR(3),"
        " FOREIGN KEY (code) REFERENCES parent (code)) WITH SYSTEM VERSIONING",
        "INSERT INTO parent SELECT seq, CONCAT('X', seq) FROM seq_1_to_60",
    )
    t0 = now(engine)
    run_sql(engine, "UPDATE parent SET code = CONCAT('Y', id) WHERE id <= 50")
    run_sql(engine, "INSERT INTO child VALUES (1, 'Y7')")  # legitimate, later
    plan = plan_since(engine, t0, "parent", 1)
    (summary,) = plan.tables
    assert (summary.revert, summary.held) == (49, 1)
    run(engine, plan)
    assert rows(engine, "SELECT code FROM parent WHERE id = 7") == [("Y7",)]
    assert rows(engine, "SELECT code FROM parent WHERE id = 8") == [("X8",)]


def test_a_unique_value_taken_since_under_another_key_is_a_conflict(engine: Engine) -> None:
    run_sql(
        engine,
        "CREATE TABLE u (id INT PRIMARY KEY, code INT NOT NULL, UNIQUE KEY (code),"
        " p INT NULL, FOREIGN KEY (p) REFERENCES u (id) ON DELETE CASCADE)"
        " WITH SYSTEM VERSIONING",
        "INSERT INTO u SELECT seq, seq * 7, NULL FROM seq_1_to_20",
        "UPDATE u SET p = 5 WHERE id = 6",
    )
    t0 = now(engine)
    run_sql(engine, "DELETE FROM u WHERE id IN (5, 8)")  # takes 6 along, by cascade
    run_sql(engine, "INSERT INTO u VALUES (100, 35, NULL)")  # code 35 was row 5's, by hand
    plan = plan_since(engine, t0, "u", 1)
    (summary,) = plan.tables
    assert (summary.conflicts, summary.held) == (1, 1)  # row 5 collides; 6 hangs under it
    run(engine, plan)
    assert rows(engine, "SELECT id, code FROM u WHERE id IN (5, 6, 8, 100) ORDER BY id") == [
        (8, 56),
        (100, 35),
    ]
