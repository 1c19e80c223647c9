"""A drill executes the restore plan, validates it, rolls back: provably read-only in effect."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from core.drill import run_drill
from core.timeutil import fmt_instant
from tests.core.detect_schema import STATIONS
from tests.support.sql import now, run_sql

CHECKSUM = "CHECKSUM TABLE stations, trips EXTENDED"
VERSIONS = (
    "SELECT (SELECT COUNT(*) FROM stations FOR SYSTEM_TIME ALL),"
    " (SELECT COUNT(*) FROM trips FOR SYSTEM_TIME ALL)"
)


def snapshot(engine: Engine) -> tuple[object, ...]:
    """Checksums of the current rows plus the number of stored versions (history)."""
    with engine.connect() as conn:
        sums = tuple(r[1] for r in conn.execute(sa.text(CHECKSUM)))
        return (*sums, *conn.execute(sa.text(VERSIONS)).one())


def test_drill_reports_the_plan_and_changes_nothing(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    healthy = now(engine)
    run_sql(
        engine,
        "DELETE FROM stations WHERE city = 'Mumbai'",  # 100 stations, 300 trips cascaded
        "UPDATE stations SET name = 'Renamed' WHERE id = 1",
    )
    before = snapshot(engine)
    with OfflineBot(database_url) as bot:
        bot.driver.slash(f"drill stations at {fmt_instant(healthy)}")
        report = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "drill" in c.text],
            what="the drill report",
        )[0]
        text = report.blocks[0]["text"]["text"]
        assert "passed" in text and "nothing was written" in text
        assert "`stations`: 100 rows re-inserted, 1 row reverted" in text
        assert "`trips`: 300 rows re-inserted" in text
        assert "401 rows written and rolled back" in text
        assert " ms" in text
        assert bot.store.audit.trail()[-1]["action"] == "drill"
    assert snapshot(engine) == before


def test_drill_with_nothing_to_undo_still_checks(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    result = run_drill(engine, "stations", now(engine))
    assert result.statements == 0 and result.rows == 0


def test_scheduled_drill_posts_only_failures(
    engine: Engine, account: tuple[str, str, str], tmp_path: Path
) -> None:
    """A watch-only account cannot restore: the scheduled drill finds out before an incident
    does. The restore account's drill passes and says nothing."""
    user, schema, url = account
    run_sql(engine, f"GRANT SELECT ON `{schema}`.* TO '{user}'@'%'", "DELETE FROM trips")
    before = snapshot(engine)
    drills = {"vault_drill_interval": 1, "vault_drill_window": 600}
    with OfflineBot(url, watch=True, vault_state_url=f"sqlite:///{tmp_path}/a.db", **drills) as bot:
        failure = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "drill" in c.text],
            timeout=15,
            what="the drill failure",
        )[0]
        assert "scheduled restore drills failing" in failure.blocks[0]["text"]["text"]
        assert "`stations`: " in failure.blocks[1]["text"]["text"]  # one digest lists the tables
        assert "can watch but not restore" in failure.text
        assert failure.params["channel"] == "C0INCIDENT"
    state = f"sqlite:///{tmp_path}/b.db"
    with OfflineBot(
        str(engine.url.render_as_string(hide_password=False)),
        watch=True,
        vault_state_url=state,
        vault_min_rows=1_000_000,  # no alert for the deletion: only drills could speak
        **drills,
    ) as bot:
        wait_until(
            lambda: (
                len([e for e in bot.store.audit.trail(limit=None)]) >= 0
                and bot.runtime.loop.chores[-1].running is not None
                and bot.runtime.loop.chores[-1].running.done()
            ),
            timeout=15,
            what="a scheduled drill to finish",
        )
        assert not [c for c in bot.slack.calls_to("chat.postMessage") if "drill" in c.text]
    assert snapshot(engine) == before
