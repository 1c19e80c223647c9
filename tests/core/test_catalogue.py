"""The catalogue reads versioning, keys and foreign keys from the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from core.catalogue import Catalogue, Precision, load_catalogue
from core.errors import UnknownTable, UnwatchableTable
from tests.core.schemas import SHOP
from tests.support.sql import run_sql


@pytest.fixture
def catalogue(engine: Engine) -> Catalogue:
    run_sql(engine, *SHOP)
    with engine.connect() as conn:
        return load_catalogue(conn)


def test_implicit_period_is_found_from_show_create_table(catalogue: Catalogue) -> None:
    period = catalogue.get("customers").period
    assert period is not None
    assert (period.start, period.end, period.implicit) == ("ROW_START", "ROW_END", True)
    assert period.precision is Precision.TIMESTAMP
    assert not period.end_indexed
    assert catalogue.get("customers").data_columns == ["id", "name", "city"]


def test_explicit_indexed_period(catalogue: Catalogue) -> None:
    period = catalogue.get("orders").period
    assert period is not None
    assert (period.start, period.end, period.implicit) == ("row_start", "row_end", False)
    assert period.end_indexed and not period.start_indexed
    assert catalogue.get("orders").primary_key == ("id",)  # row_end is not part of the key


def test_transaction_precise_composite_key(catalogue: Catalogue) -> None:
    stock = catalogue.get("stock")
    assert stock.period is not None
    assert stock.period.precision is Precision.TRANSACTION
    assert stock.primary_key == ("warehouse", "sku")
    assert stock.data_columns == ["warehouse", "sku", "qty"]


def test_foreign_keys_in_both_directions(catalogue: Catalogue) -> None:
    (out,) = catalogue.get("orders").outgoing
    assert (out.child_table, out.child_columns) == ("orders", ("customer_id",))
    assert (out.parent_table, out.parent_columns, out.on_delete) == (
        "customers",
        ("id",),
        "CASCADE",
    )
    incoming = {(fk.child_table, fk.on_delete) for fk in catalogue.get("customers").incoming}
    assert incoming == {("orders", "CASCADE"), ("notes", "SET NULL")}


def test_unwatchable_tables_say_why(catalogue: Catalogue) -> None:
    assert "not system-versioned" in (catalogue.get("notes").problem or "")
    assert "no primary key" in (catalogue.get("audit_log").problem or "")
    assert {t.name for t in catalogue.watched()} == {"customers", "orders", "stock"}
    with pytest.raises(UnwatchableTable, match="not system-versioned"):
        catalogue.watchable("notes")


def test_estimated_rows(catalogue: Catalogue) -> None:
    assert catalogue.get("customers").estimated_rows >= 0  # InnoDB estimate, present


def test_unknown_table_suggests_the_right_case(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownTable, match="Did you mean `customers`"):
        catalogue.get("Customers")
    with pytest.raises(UnknownTable, match="no table `nope`"):
        catalogue.get("nope")
