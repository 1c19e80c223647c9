"""History retention over signed HTTP: two people set it, history older than it is pruned
(in steps, or by dropping SYSTEM_TIME partitions), current rows stay exactly as they were,
a retention under VAULT_HISTORY_MIN is refused, and status shows each table's window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from core.state.common import new_id
from core.state.incidents import EventRecord, Incident, IncidentStatus
from core.summary import IncidentSummary
from core.timeutil import fmt_instant
from handlers.slack_port import SlackPort
from tests.support.flows import buttons, posted
from tests.support.sql import now, run_sql
from tests.usecases.test_protect import (
    left_executing,
    section_text,
)
from usecases.retention import PruneSummary, prune_all
from usecases.schema_change import sweep_interrupted_changes

PERIOD = (
    " row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
    " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
    " PERIOD FOR SYSTEM_TIME (row_start, row_end)"
)
DAY = timedelta(days=1)


def build(engine: Engine, table: str, tail: str = "") -> datetime:
    """300 rows written 10 days ago; 100 changed 9 days ago, 200 five days ago, 15 an hour
    ago: 300 history rows older than 3 days, 15 newer. Returns the base instant."""
    base = now(engine)
    run_sql(
        engine,
        f"CREATE TABLE {table} (id INT PRIMARY KEY, amount INT NOT NULL,{PERIOD},"
        f" INDEX (row_end)) WITH SYSTEM VERSIONING{tail}",
    )
    for ago, sql in (
        (10 * DAY, f"INSERT INTO {table} SELECT seq, seq FROM seq_1_to_300"),
        (9 * DAY, f"UPDATE {table} SET amount = amount + 1 WHERE id <= 100"),
        (5 * DAY, f"UPDATE {table} SET amount = amount + 1 WHERE id <= 200"),
        (timedelta(hours=1), f"DELETE FROM {table} WHERE id > 290"),
        (timedelta(hours=1), f"UPDATE {table} SET amount = amount + 1 WHERE id <= 5"),
    ):
        stamp = (base - ago).timestamp()
        run_sql(engine, f"SET @@timestamp = {stamp:.6f}", sql, "SET @@timestamp = DEFAULT")
    return base


def current_rows(engine: Engine, table: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.text(f"SELECT id, amount, row_start FROM {table} ORDER BY id")).all()
        )


def history_ends(engine: Engine, table: str) -> list[datetime]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    f"SELECT row_end FROM {table} FOR SYSTEM_TIME ALL"
                    " WHERE row_end < NOW(6) ORDER BY row_end"
                )
            ).scalars()
        )


def set_retention(bot: OfflineBot, table: str, keep: str) -> str:
    bot.driver.slash(f"retention {table} {keep}", user="U0ALICE")
    request = posted(bot, f"Retention for {table}: requested")
    change_id = buttons(request)[Action.APPROVE_CHANGE.value]
    bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0ALICE")
    assert "second, different person" in bot.slack.wait_for_response("second, different").text
    bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0BOB")
    wait_until(
        lambda: (c := bot.store.changes.get(change_id)) and c.state.value == "executed",
        what="the retention applied",
    )
    return change_id


def test_retention_prunes_old_history_in_steps_and_never_current_rows(
    database_url: str, engine: Engine
) -> None:
    base = build(engine, "ledger")
    before = current_rows(engine, "ledger")
    assert len(history_ends(engine, "ledger")) == 315
    with OfflineBot(database_url, vault_history_min=2 * 86400, vault_prune_batch=100) as bot:
        bot.driver.slash("retention ledger 1d", user="U0ALICE")
        assert (
            "shorter than VAULT_HISTORY_MIN"
            in bot.slack.wait_for_response("VAULT_HISTORY_MIN").text
        )

        change_id = set_retention(bot, "ledger", "3d")
        done = posted(bot, "ledger keeps 3 days of history")
        assert "300 history rows older than that were removed" in done.text
        ends = history_ends(engine, "ledger")
        assert len(ends) == 15 and min(ends) > (base - 3 * DAY).replace(tzinfo=None)
        assert current_rows(engine, "ledger") == before, "current rows untouched, row by row"
        trail = bot.store.audit.trail(limit=None)
        prune = [e for e in trail if e["action"] == "prune"]
        assert len(prune) == 1 and "2 DELETE HISTORY steps" in prune[0]["detail"]
        assert ("retention", change_id) in [(e["action"], e["plan_id"]) for e in trail]

        reply = bot.driver.slash("status", user="U0CAROL")
        assert reply.status == 200
        status = bot.slack.wait_for_response("History windows").block_text
        assert "`ledger`" in status and "15 rows" in status and "keep 3 days (delete)" in status


def test_partitioned_table_is_pruned_by_dropping_partitions(
    database_url: str, engine: Engine
) -> None:
    start = now(engine) - 10 * DAY - timedelta(hours=1)
    tail = (
        f" PARTITION BY SYSTEM_TIME INTERVAL 1 DAY STARTS '{start:%Y-%m-%d %H:%M:%S}' PARTITIONS 12"
    )
    base = build(engine, "ledger", tail)
    before = current_rows(engine, "ledger")
    with OfflineBot(database_url, vault_history_min=2 * 86400) as bot:
        set_retention(bot, "ledger", "3d")
        posted(bot, "ledger keeps 3 days of history")
        ends = history_ends(engine, "ledger")
        assert len(ends) == 15 and min(ends) > (base - 3 * DAY).replace(tzinfo=None)
        assert current_rows(engine, "ledger") == before
        prune = [e for e in bot.store.audit.trail(limit=None) if e["action"] == "prune"]
        assert "dropped partitions p0, p1, p2, p3, p4, p5, p6" in prune[0]["detail"]
        with engine.connect() as conn:
            left = conn.execute(
                sa.text(
                    "SELECT PARTITION_NAME FROM information_schema.PARTITIONS"
                    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ledger'"
                )
            ).scalars()
            assert "p0" not in list(left)


def test_the_request_says_when_it_prunes_and_a_retention_may_be_years(
    database_url: str, engine: Engine
) -> None:
    """With the pruning pass off (VAULT_RETENTION_INTERVAL=0) the request does not promise a
    schedule; a retention longer than a year is fine, and the limit speaks of retention."""
    build(engine, "ledger")
    with OfflineBot(database_url, vault_retention_interval=0) as bot:
        bot.driver.slash("retention ledger 400d", user="U0ALICE")
        said = section_text(posted(bot, "Retention for ledger: requested"))
        assert "keep 400 days of history" in said
        assert "once approved (VAULT_RETENTION_INTERVAL is 0, so no later pass" in said
        assert "on a schedule" not in said
        refused = bot.driver.slash("retention ledger 4000d", user="U0ALICE").json()["text"]
        assert refused.startswith("A retention is at most 10 years")
    with OfflineBot(database_url, vault_retention_interval=900) as bot:
        bot.driver.slash("retention ledger 30d", user="U0ALICE")
        said = section_text(posted(bot, "Retention for ledger: requested"))
        assert "once approved, then every 15 min." in said


def test_an_account_that_may_not_prune_is_refused_at_request_time(
    engine: Engine, account: tuple[str, str, str]
) -> None:
    """A real account without DELETE HISTORY is refused with the GRANT it needs before
    anything is posted; one that loses it between request and approval fails the request
    and leaves no retention in force."""
    user, schema, url = account
    build(engine, "ledger")
    run_sql(engine, f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{schema}`.* TO '{user}'@'%'")
    with OfflineBot(url, vault_history_min=2 * 86400) as bot:
        bot.driver.slash("retention ledger 3d", user="U0ALICE")
        said = bot.slack.wait_for_response("may not prune").text
        assert f"GRANT DELETE HISTORY ON `{schema}`.`ledger` TO '{user}'@'%'" in said
        assert not [c for c in bot.slack.calls_to("chat.postMessage") if "Retention" in c.text]

        run_sql(engine, f"GRANT DELETE HISTORY ON `{schema}`.`ledger` TO '{user}'@'%'")
        bot.driver.slash("retention ledger 3d", user="U0ALICE")
        change_id = buttons(posted(bot, "Retention for ledger: requested"))[
            Action.APPROVE_CHANGE.value
        ]
        run_sql(engine, f"REVOKE DELETE HISTORY ON `{schema}`.`ledger` FROM '{user}'@'%'")
        bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0BOB")
        wait_until(
            lambda: (c := bot.store.changes.get(change_id)) and c.state.value == "failed",
            what="the retention failed",
        )
        assert not bot.store.changes.retentions(source=bot.runtime.deps.source)
    assert len(history_ends(engine, "ledger")) == 315, "nothing pruned"


def open_incident(bot: OfflineBot, table: str, instant: datetime) -> str:
    """An open incident whose damage committed at ``instant``, as the watcher stores one."""
    said = instant.isoformat()
    incident = Incident(
        id=new_id(),
        source=bot.runtime.deps.source,
        table=table,
        status=IncidentStatus.OPEN,
        first_instant=instant,
        last_instant=instant,
        summary=IncidentSummary(
            table=table,
            deleted=0,
            updated=200,
            statements=1,
            rows_before=300,
            share=0.67,
            score=90,
            reason="bulk update",
            instant=said,
            last_instant=said,
        ),
        channel=None,
        root_ts=None,
    )
    record = EventRecord(table, said, instant, None, deleted=0, updated=200)
    assert bot.store.record_event(source=incident.source, records=[record], open_incident=incident)
    return incident.id


def test_an_open_incident_keeps_the_history_it_would_restore_from(
    database_url: str, engine: Engine
) -> None:
    """The 5-day-old update is an open incident: a 3-day retention prunes only what is older
    than it, says so, and prunes the rest once the incident is dismissed."""
    build(engine, "ledger")
    damage = history_ends(engine, "ledger")[100].replace(tzinfo=UTC)  # the 5-day-old UPDATE
    with OfflineBot(database_url, vault_history_min=2 * 86400) as bot:
        incident_id = open_incident(bot, "ledger", damage)
        set_retention(bot, "ledger", "3d")
        done = posted(bot, "ledger keeps 3 days of history")
        assert "100 history rows older than that were removed" in done.text
        assert f"incident {incident_id[:8]}" in done.text
        ends = history_ends(engine, "ledger")
        assert len(ends) == 215 and min(ends) == damage.replace(tzinfo=None)
        prune = [e for e in bot.store.audit.trail(limit=None) if e["action"] == "prune"]
        assert (
            f"kept back to {fmt_instant(damage)} for incident {incident_id[:8]}"
            in (prune[0]["detail"])
        )

        assert bot.store.dismiss_incident(incident_id, actor="U0ALICE", reason="expected")
        assert prune_all(bot.runtime.deps) == PruneSummary(tables=1, rows=200)
        assert len(history_ends(engine, "ledger")) == 15


def test_the_sweep_fails_a_retention_a_dead_process_left_pruning_and_sets_it(
    database_url: str, engine: Engine
) -> None:
    """Two people approved it, so it is set; the next pruning pass does the pruning."""
    build(engine, "ledger")
    with OfflineBot(database_url, vault_history_min=2 * 86400) as bot:
        bot.driver.slash("retention ledger 3d", user="U0ALICE")
        change_id = buttons(posted(bot, "Retention for ledger: requested"))[
            Action.APPROVE_CHANGE.value
        ]
        left_executing(bot, change_id)
        deps = bot.runtime.deps
        assert sweep_interrupted_changes(deps, SlackPort.of(deps, bot.app.client)) == 1
        assert bot.store.changes.get(change_id).state.value == "failed"
        said = posted(bot, "Pruning ledger was interrupted").text
        assert "retention of 3 days is set and the next pruning pass continues" in said
        assert [r.keep_seconds for r in bot.store.changes.retentions(source=deps.source)] == [
            3 * 86400
        ]
        assert prune_all(deps) == PruneSummary(tables=1, rows=300)
