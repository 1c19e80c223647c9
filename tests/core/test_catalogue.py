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
    assert catalogue.get("orders").key == ("id",)  # row_end is not part of the key


def test_transaction_precise_composite_key(catalogue: Catalogue) -> None:
    stock = catalogue.get("stock")
    assert stock.period is not None
    assert stock.period.precision is Precision.TRANSACTION
    assert stock.key == ("warehouse", "sku")
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
    assert "neither a primary key" in (catalogue.get("audit_log").problem or "")
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


def test_unique_not_null_key_is_the_row_identity_without_a_primary_key(engine: Engine) -> None:
    run_sql(
        engine,
        "CREATE TABLE by_email (email VARCHAR(80) NOT NULL, nick VARCHAR(20) NULL,"
        " UNIQUE KEY uq_nick (nick), UNIQUE KEY uq_email (email)) WITH SYSTEM VERSIONING",
        "CREATE TABLE nullable_only (nick VARCHAR(20) NULL, UNIQUE KEY (nick))"
        " WITH SYSTEM VERSIONING",
    )
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
    by_email = catalogue.watchable("by_email")  # InnoDB's own choice of identity
    assert (by_email.key, by_email.key_name) == (("email",), "uq_email")
    assert by_email.describe_key() == "email (unique `uq_email`)"
    with pytest.raises(UnwatchableTable, match="neither a primary key nor a UNIQUE key"):
        catalogue.watchable("nullable_only")  # a NULL could repeat: no identity


def test_generated_invisible_columns_and_triggers(engine: Engine) -> None:
    run_sql(
        engine,
        "CREATE TABLE g (id INT PRIMARY KEY, a INT, b INT AS (a * 2) VIRTUAL,"
        " c INT AS (a + 1) STORED, secret INT INVISIBLE) WITH SYSTEM VERSIONING",
        "CREATE TRIGGER g_bi BEFORE INSERT ON g FOR EACH ROW SET NEW.a = 1",
    )
    with engine.connect() as conn:
        g = load_catalogue(conn).get("g")
    assert g.data_columns == ["id", "a", "b", "c", "secret"]
    assert g.writable_columns == ["id", "a", "secret"]  # the server computes b and c
    assert g.column("secret").invisible and g.column("c").generated
    ((name, timing, event),) = [(t.name, t.timing, t.event) for t in g.triggers]
    assert (name, timing, event) == ("g_bi", "BEFORE", "INSERT")
