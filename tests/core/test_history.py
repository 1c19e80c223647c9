"""Change events, changed rows, snapshots and diffs, on the real server."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from core.catalogue import Catalogue, load_catalogue
from core.history import (
    ChangeEvent,
    RowKind,
    TableChange,
    changed_rows,
    count_at,
    diff,
    list_events,
    snapshot,
)
from core.timeutil import ONE_MICROSECOND
from tests.core.schemas import SHOP
from tests.support.sql import now, run_sql


@pytest.fixture
def shop(engine: Engine) -> tuple[Catalogue, datetime]:
    """The shop schema, and the instant after its set-up."""
    run_sql(engine, *SHOP)
    with engine.connect() as conn:
        return load_catalogue(conn), now(engine)


def events(
    engine: Engine, catalogue: Catalogue, since: datetime, **kw: object
) -> list[ChangeEvent]:
    with engine.connect() as conn:
        return list_events(conn, catalogue, since=since, **kw)  # type: ignore[arg-type]


def test_delete_is_one_event_with_its_instant(
    engine: Engine, shop: tuple[Catalogue, datetime]
) -> None:
    catalogue, t0 = shop
    run_sql(engine, "DELETE FROM orders WHERE id = 12")
    t1 = now(engine)
    (event,) = events(engine, catalogue, t0)
    assert event.changes == (TableChange("orders", deleted=1),)
    assert t0 < event.instant <= t1
    assert event.transaction_id is None


def test_update_counts_real_changes_not_noop_rewrites(
    engine: Engine, shop: tuple[Catalogue, datetime]
) -> None:
    catalogue, t0 = shop
    run_sql(engine, "UPDATE customers SET city = 'Pune' WHERE id = 3")
    run_sql(engine, "UPDATE customers SET city = city")
    real, noop = events(engine, catalogue, t0)
    assert real.changes == (TableChange("customers", updated=1),)
    assert noop.changes == (TableChange("customers", unchanged=3),)


def test_insert_is_an_event(engine: Engine, shop: tuple[Catalogue, datetime]) -> None:
    catalogue, t0 = shop
    run_sql(engine, "INSERT INTO customers VALUES (4, 'Dev', 'Goa'), (5, 'Eli', 'Oslo')")
    (event,) = events(engine, catalogue, t0)
    assert event.changes == (TableChange("customers", inserted=2),)
    assert events(engine, catalogue, t0, inserts=False) == []


def test_cascade_is_one_instant_in_both_tables(
    engine: Engine, shop: tuple[Catalogue, datetime]
) -> None:
    catalogue, t0 = shop
    run_sql(engine, "DELETE FROM customers WHERE city = 'Mumbai'")
    (event,) = events(engine, catalogue, t0)
    assert event.for_table("customers") == TableChange("customers", deleted=2)
    assert event.for_table("orders") == TableChange("orders", deleted=2)


def test_multi_statement_transaction_timestamp_versioning_has_several_instants(
    engine: Engine, shop: tuple[Catalogue, datetime]
) -> None:
    catalogue, t0 = shop
    run_sql(engine, "DELETE FROM orders WHERE id = 10", "UPDATE orders SET total = 1 WHERE id = 11")
    first, second = events(engine, catalogue, t0)
    assert first.changes == (TableChange("orders", deleted=1),)
    assert second.changes == (TableChange("orders", updated=1),)
    assert first.instant < second.instant


def test_multi_statement_transaction_precise_versioning_is_one_event(
    engine: Engine, shop: tuple[Catalogue, datetime]
) -> None:
    catalogue, t0 = shop
    run_sql(
        engine,
        "UPDATE stock SET qty = 0 WHERE sku = 'A1'",
        "DELETE FROM stock WHERE sku = 'B2'",
        "INSERT INTO stock (warehouse, sku, qty) VALUES ('LHR', 'C3', 1)",
    )
    (event,) = events(engine, catalogue, t0)
    assert event.transaction_id is not None
    assert event.changes == (TableChange("stock", deleted=1, updated=2, inserted=1),)


def test_changed_rows_carry_before_and_after_images(
    engine: Engine, shop: tuple[Catalogue, datetime]
) -> None:
    catalogue, t0 = shop
    run_sql(engine, "DELETE FROM customers WHERE city = 'Mumbai'")
    run_sql(engine, "UPDATE stock SET qty = qty + 1 WHERE warehouse = 'BOM'")
    cascade, restock = events(engine, catalogue, t0)
    with engine.connect() as conn:
        gone = list(changed_rows(conn, catalogue.get("customers"), cascade))
        orders = list(changed_rows(conn, catalogue.get("orders"), cascade))
        bumped = list(changed_rows(conn, catalogue.get("stock"), restock, batch=1))
    assert [(r.kind, r.key, r.before) for r in gone] == [
        (RowKind.DELETED, (1,), {"id": 1, "name": "Asha", "city": "Mumbai"}),
        (RowKind.DELETED, (3,), {"id": 3, "name": "Chen", "city": "Mumbai"}),
    ]
    assert [r.key for r in orders] == [(10,), (11,)]
    assert [(r.kind, r.key, r.changed_columns) for r in bumped] == [
        (RowKind.UPDATED, ("BOM", "A1"), ("qty",)),
        (RowKind.UPDATED, ("BOM", "B2"), ("qty",)),
    ]
    assert bumped[0].before == {"warehouse": "BOM", "sku": "A1", "qty": 5}
    assert bumped[0].after == {"warehouse": "BOM", "sku": "A1", "qty": 6}


def test_snapshot_and_count_as_of_an_instant(
    engine: Engine, shop: tuple[Catalogue, datetime]
) -> None:
    catalogue, t0 = shop
    run_sql(engine, "DELETE FROM customers WHERE city = 'Mumbai'")
    (event,) = events(engine, catalogue, t0)
    customers = catalogue.get("customers")
    with engine.connect() as conn:
        before = list(snapshot(conn, customers, event.instant - ONE_MICROSECOND, batch=2))
        assert count_at(conn, customers, event.instant - ONE_MICROSECOND) == 3
        assert count_at(conn, customers, event.instant) == 1
    assert [r["id"] for r in before] == [1, 2, 3]


@pytest.mark.parametrize("table", ["orders", "stock"])
def test_diff_between_instants(
    engine: Engine, shop: tuple[Catalogue, datetime], table: str
) -> None:
    catalogue, t0 = shop
    if table == "orders":
        run_sql(
            engine,
            "DELETE FROM orders WHERE id = 10",
            "UPDATE orders SET total = total + 1 WHERE id = 11",
            "UPDATE orders SET total = total WHERE id = 12",  # no-op: not a change
            "INSERT INTO orders (id, customer_id, total) VALUES (13, 2, 5)",
        )
    else:
        run_sql(
            engine,
            "DELETE FROM stock WHERE sku = 'B2'",
            "UPDATE stock SET qty = 9 WHERE warehouse = 'LHR'",
            "INSERT INTO stock (warehouse, sku, qty) VALUES ('DXB', 'Z9', 1)",
        )
    t1 = now(engine)
    with engine.connect() as conn:
        result = diff(conn, catalogue.get(table), t0, t1)
        empty = diff(conn, catalogue.get(table), t1, now(engine))
    assert (result.deleted, result.inserted, result.changed) == (1, 1, 1)
    kinds = sorted(s.kind.value for s in result.samples)
    assert kinds == ["deleted", "inserted", "updated"]
    updated = next(s for s in result.samples if s.kind is RowKind.UPDATED)
    assert updated.changed_columns == ("total",) if table == "orders" else ("qty",)
    assert (empty.deleted, empty.inserted, empty.changed) == (0, 0, 0)


@pytest.mark.parametrize("precision", ["TIMESTAMP(6)", "BIGINT UNSIGNED"])
def test_events_read_alike_with_or_without_an_index_on_row_start(
    engine: Engine, precision: str
) -> None:
    """With row_start indexed, a point that opened no version (a DELETE) is counted from the
    indexes alone; the counts must be the ones the join gives without that index."""
    for name, keys in (("one", "INDEX (row_end)"), ("two", "INDEX (row_end), INDEX (row_start)")):
        run_sql(
            engine,
            f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT NOT NULL,"
            f" row_start {precision} GENERATED ALWAYS AS ROW START INVISIBLE,"
            f" row_end {precision} GENERATED ALWAYS AS ROW END INVISIBLE,"
            f" PERIOD FOR SYSTEM_TIME (row_start, row_end), {keys}) WITH SYSTEM VERSIONING",
            f"INSERT INTO {name} (id, v) SELECT seq, seq FROM seq_1_to_20",
        )
    t0 = now(engine)
    for name in ("one", "two"):
        run_sql(
            engine,
            f"DELETE FROM {name} WHERE id <= 3",
            f"UPDATE {name} SET v = -v WHERE id BETWEEN 4 AND 7",
            f"UPDATE {name} SET v = v WHERE id = 8",  # no-op: rewritten, unchanged
            f"INSERT INTO {name} (id, v) VALUES (21, 21), (22, 22)",
            f"REPLACE INTO {name} (id, v) VALUES (9, 90)",
        )
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        assert catalogue.get("two").period.start_indexed  # type: ignore[union-attr]
        found = {
            (name, inserts, skip): [
                e.changes[0]
                for e in list_events(
                    conn,
                    catalogue,
                    since=t0,
                    tables=[name],
                    inserts=inserts,
                    seen=(lambda _t, _p: False) if skip else None,
                )
            ]
            for name in ("one", "two")
            for inserts in (True, False)
            for skip in (True, False)
        }
    expected = [
        TableChange("one", deleted=3),
        TableChange("one", updated=4),
        TableChange("one", unchanged=1),
        TableChange("one", inserted=2),
        TableChange("one", updated=1),
    ]
    if precision.startswith("TIMESTAMP"):  # each statement its own event
        assert found[("one", True, False)] == expected
    for (name, inserts, skip), changes in found.items():
        other = found[("one", inserts, skip)]
        assert [c.__class__(name, *astuple(c)[1:]) for c in other] == changes, (inserts, skip)
