"""Property: on a random schema, a restore ends exactly at the state before the damage with
every later legitimate write applied, or is refused before writing anything.

The damage is one statement or two (a burst, often rewriting the same rows twice).

Random foreign-key graphs (random ON DELETE / ON UPDATE rules, self-references),
generated columns, UNIQUE-key row identities, triggers; random legitimate
writes before and after one damaging statement. The restore runs through the
same core the bot uses (plan, rehearsal, execution with verification); the
expected state comes from the test's own snapshots (``tests.support.oracle``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import URL, Engine

from core.catalogue import load_catalogue
from core.db import make_engine
from core.history import list_events, server_now
from core.plan import PlanRefused, build_plan
from core.restore import execute_plan, maybe_rehearse
from core.timeutil import ONE_MICROSECOND
from tests.acceptance.random_schema import (
    Schema,
    conflicting,
    damage,
    data,
    ddl,
    legit,
    schemas,
)
from tests.conftest import fresh_database
from tests.support.oracle import Snapshot, differences, expected_after, snapshot
from tests.support.sql import run_sql

EXAMPLES = int(os.environ.get("FV_RANDOM_SCHEMAS", "25"))


@contextmanager
def _database(server_url: URL) -> Iterator[Engine]:
    with fresh_database(server_url, "fvprop") as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _ids(snap: Snapshot, table: str) -> set[int]:
    rows = snap[table]
    at = rows.columns.index("id")
    return {int(r[at]) for r in [*rows.rows.values(), *rows.bag]}


def _touched(before: Snapshot, after: Snapshot, table: str) -> set[int]:
    """Ids whose row the damage changed, by the test's own comparison."""
    b, a = before[table], after[table]
    at = b.columns.index("id")
    old = {int(r[at]): r for r in [*b.rows.values(), *b.bag]}
    new = {int(r[at]): r for r in [*a.rows.values(), *a.bag]}
    return {i for i in old.keys() | new.keys() if old.get(i) != new.get(i)}


def _clear_of_damage(schema: Schema, before: Snapshot, damaged: Snapshot) -> dict[str, list[int]]:
    """Per table, rows later writes may touch: present now and untouched by the damage."""
    out = {}
    for t in schema.tables:
        out[t.name] = sorted(_ids(damaged, t.name) - _touched(before, damaged, t.name))
    return out


def _try(engine: Engine, statement: str) -> bool:
    try:
        run_sql(engine, statement)
        return True
    except sa.exc.DBAPIError:  # a RESTRICT key or a UNIQUE clash: the user's own rules said no
        return False


def _restore(engine: Engine, since: object, until: object) -> str | None:
    """Plan the damage's undo, rehearse it, run it; the refusal sentence when refused."""
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        events = list_events(conn, catalogue, since=since, until=until)  # type: ignore[arg-type]
        plan = build_plan(
            conn,
            catalogue,
            table=events[0].changes[0].table,
            events=events,
            restore_point=events[0].instant - ONE_MICROSECOND,
        )
    try:
        plan = maybe_rehearse(engine, catalogue, plan, up_to=10**9)
    except PlanRefused as exc:
        return str(exc)
    execute_plan(engine, catalogue, plan)
    return None


def _audit_only_grew(actual: Snapshot, expected: Snapshot, later: Snapshot) -> None:
    """The restore's own deletes may be logged by an audit trigger: those rows are new
    (ids past every earlier one); nothing else of the audit table may differ."""
    a, e = actual["audit"], expected["audit"]
    top = max((k[0] for k in later["audit"].rows), default=0)
    assert {k: v for k, v in a.rows.items() if k[0] <= top} == e.rows


@pytest.mark.timeout(1800)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FV_RANDOM_EXPLORE"),  # CI: the same examples every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    database=None,
)
@given(schema=schemas(), draw=st.data())
def test_restore_is_exact_or_refused(server_url: URL, schema: Schema, draw: st.DataObject) -> None:
    with _database(server_url) as engine:
        run_sql(engine, *ddl(schema), *data(schema), *schema.triggers)
        before_damage = snapshot(engine)
        present = _clear_of_damage(schema, before_damage, before_damage)
        for n in range(draw.draw(st.integers(0, 3))):
            _try(engine, legit(draw.draw, schema, present, n))
        before = snapshot(engine)
        start = _now(engine)
        statements = draw.draw(st.integers(1, 2))  # two: a burst, often over the same rows
        assume(all([_try(engine, damage(draw.draw, schema)) for _ in range(statements)]))
        damaged = snapshot(engine)
        assume(damaged != before)
        end = _now(engine)
        clear = _clear_of_damage(schema, before, damaged)
        for n in range(draw.draw(st.integers(0, 3))):
            _try(engine, legit(draw.draw, schema, clear, 100 + n))
        later = snapshot(engine)
        refused = _restore(engine, start, end)
        actual = snapshot(engine)
    event(f"{schema.style}: {'refused' if refused else 'restored'}")
    if refused is not None:
        event(f"refused: {refused[:400]}")
        assert "because of the triggers its writes fire" in refused, refused
        assert actual == later, "a refused restore changed the data"
        return
    expected = expected_after(before, damaged, later)
    _audit_only_grew(actual, expected, later)
    del actual["audit"], expected["audit"]
    assert differences(actual, expected) == []


def _by_id(snap: Snapshot) -> dict[str, dict[int, tuple[object, ...]]]:
    out = {}
    for name, rows in snap.items():
        at = rows.columns.index("id")
        out[name] = {int(r[at]): r for r in [*rows.rows.values(), *rows.bag]}
    return out


def _dangling(engine: Engine, schema: Schema) -> int:
    total = 0
    with engine.connect() as conn:
        for t in schema.tables:
            for f in t.fks:
                total += int(
                    conn.execute(
                        sa.text(
                            f"SELECT COUNT(*) FROM {t.name} c WHERE c.{f.column} IS NOT NULL AND"
                            f" NOT EXISTS (SELECT 1 FROM t{f.parent} p WHERE p.id = c.{f.column})"
                        )
                    ).scalar_one()
                )
    return total


@pytest.mark.timeout(1800)
@settings(
    max_examples=max(EXAMPLES // 2, 5),
    deadline=None,
    derandomize=not os.environ.get("FV_RANDOM_EXPLORE"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    database=None,
)
@given(schema=schemas(), draw=st.data())
def test_later_writes_on_damaged_rows_survive(
    server_url: URL, schema: Schema, draw: st.DataObject
) -> None:
    """Later writes hit the damaged rows: they survive exactly, every other row ends as it
    was before the damage or, skipped, as the damage left it, and no reference dangles."""
    with _database(server_url) as engine:
        run_sql(engine, *ddl(schema), *data(schema), *schema.triggers)
        before = snapshot(engine)
        start = _now(engine)
        assume(_try(engine, damage(draw.draw, schema)))
        damaged = snapshot(engine)
        assume(damaged != before)
        end = _now(engine)
        hit = {t.name: sorted(_touched(before, damaged, t.name)) for t in schema.tables}
        for n in range(draw.draw(st.integers(1, 3))):
            _try(engine, conflicting(draw.draw, schema, hit, n))
        later = snapshot(engine)
        assume(_dangling(engine, schema) == 0)  # the user's own writes left none
        refused = _restore(engine, start, end)
        actual = snapshot(engine)
        dangling = _dangling(engine, schema)
    if refused is not None:
        assert "because of the triggers its writes fire" in refused, refused
        assert actual == later
        return
    assert dangling == 0
    expected = _by_id(expected_after(before, damaged, later))
    was, now, after_damage = _by_id(later), _by_id(actual), _by_id(damaged)
    for t in schema.tables:
        rewritten = set(_touched(damaged, later, t.name))
        for i in rewritten:  # every later write survives, exactly
            assert now[t.name].get(i) == was[t.name].get(i), (t.name, i)
        for i in (expected[t.name].keys() | now[t.name].keys()) - rewritten:
            assert now[t.name].get(i) in (expected[t.name].get(i), after_damage[t.name].get(i)), (
                t.name,
                i,
            )


def _now(engine: Engine) -> object:
    with engine.connect() as conn:
        return server_now(conn)
