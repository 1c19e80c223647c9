"""Alerts stay within Slack's limits for very wide tables and huge deletions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.approvals import PlanRecord, PlanState
from core.catalogue import load_catalogue
from core.finder import find_restore_point
from core.plan import RestorePlan
from core.state.store import StateStore
from core.timeutil import ONE_MICROSECOND
from core.watcher import WatchConfig, Watcher
from tests.support.slack import assert_valid_message
from tests.support.sql import run_sql
from usecases.render.alert import alert_message, growth_message
from usecases.render.finder import finder_message
from usecases.render.restore import outcome_message

PERIOD = (
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end), INDEX (row_end)"
)


def _incident_after(engine: Engine, tmp_path: Path, setup: list[str], damage: str) -> object:
    run_sql(engine, *setup)
    store = StateStore.from_url(f"sqlite:///{tmp_path}/state.db")
    store.create_tables()
    watcher = Watcher(engine=engine, store=store, config=WatchConfig(), source="limits")
    watcher.poll()
    run_sql(engine, damage)
    (incident_id,) = watcher.poll().opened
    incident = store.incidents.get(incident_id)
    store.dispose()
    return incident


def test_five_hundred_column_table(engine: Engine, tmp_path: Path) -> None:
    ints = ", ".join(f"a_rather_long_column_name_number_{i:03d} INT" for i in range(497))
    wide = f"display_name TEXT, description TEXT, {ints}"
    filler = "REPEAT('n', 3000), REPEAT('d', 3000), " + ", ".join("seq" for _ in range(497))
    incident = _incident_after(
        engine,
        tmp_path,
        [
            f"CREATE TABLE wide (id INT PRIMARY KEY, {wide}, {PERIOD}) WITH SYSTEM VERSIONING",
            f"INSERT INTO wide SELECT seq, {filler} FROM seq_1_to_200",
        ],
        "DELETE FROM wide",
    )
    message = alert_message(incident)  # type: ignore[arg-type]
    assert_valid_message(message.text, message.blocks)
    sample = message.blocks[3]["text"]["text"]
    assert sample.count("\n") < 12, "a handful of identifying columns, not 500"
    assert "… and 195 more" in sample


@pytest.mark.timeout(600)
def test_million_row_deletion(engine: Engine, tmp_path: Path) -> None:
    incident = _incident_after(
        engine,
        tmp_path,
        [
            f"CREATE TABLE big (id INT PRIMARY KEY, label VARCHAR(20), {PERIOD})"
            " WITH SYSTEM VERSIONING",
            "INSERT INTO big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000000",
        ],
        "DELETE FROM big",
    )
    message = alert_message(incident)  # type: ignore[arg-type]
    assert_valid_message(message.text, message.blocks)
    assert message.blocks[0]["text"]["text"] == ":rotating_light: 1,000,000 rows deleted from big"
    assert "… and 999,995 more" in message.blocks[3]["text"]["text"]
    growth = growth_message(incident)  # type: ignore[arg-type]
    assert_valid_message(growth.text, growth.blocks)
    with engine.connect() as conn:
        finding = find_restore_point(conn, load_catalogue(conn), "big")
    assert finding.restore_point == incident.first_instant - ONE_MICROSECOND  # type: ignore[attr-defined]
    assert finding.damage_totals()["big"].deleted == 1_000_000
    answer = finder_message(finding)
    assert_valid_message(answer.text, answer.blocks)


def test_an_outcome_over_hundreds_of_tables_stays_within_block_kit() -> None:
    """Clipped at whole lines with "… and N more", so the outcome of a committed restore
    over many tables is never rejected by Slack."""
    now = datetime.now(UTC)
    plan = RestorePlan(table="t000", restore_point=now, steps=(), tables=(), fingerprint="f")
    rec = PlanRecord(
        "p1", "db", None, "t000", "restore", PlanState.EXECUTED, plan, "U0ALICE", ("U0BOB",),
        1, 3, "C0INCIDENT", None, "1.1", None, None, now, now + timedelta(hours=1),
    )  # fmt: skip
    outcome = {
        "seconds": 1.5,
        "check_seconds": 0.5,
        "verified": 40_000,
        "conflicts": 0,
        "rows": {f"table_with_a_long_name_{i:03d}": {"reinsert": 100} for i in range(300)},
    }
    message = outcome_message(rec, outcome)
    assert_valid_message(message.text, message.blocks)
    text = message.blocks[0]["text"]["text"]
    assert text.endswith("more") and "… and " in text and "table_with_a_long_name_000" in text
