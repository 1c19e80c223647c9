"""Under load: every request answered, none in error, the restore run exactly once."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from bench.load import APPROVERS, prepare, run_load
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until


def test_fifty_commands_and_fifty_clicks_at_once(database_url: str, engine: Engine) -> None:
    prepare(engine)
    with OfflineBot(database_url, vault_approvers=APPROVERS) as bot:
        result = run_load(bot, commands=50, clicks=50)
        assert len(result.commands) == 50 and len(result.clicks) == 50
        assert {r.status for r in result.all} == {200}
        wait_until(
            lambda: (p := bot.store.plans.get(result.plan_id)) and p.state.value == "executed",
            timeout=30,
            what="the restore",
        )
        time.sleep(0.5)  # late clicks are answered too; none may start a second run
        trail = bot.store.audit.trail(limit=1000)
        assert [e["action"] for e in trail].count("executed") == 1
        assert [e["action"] for e in trail].count("approve") == 1
        errors = [c for c in bot.slack.calls if "Something went wrong" in str(c.params.get("text"))]
        assert errors == []
