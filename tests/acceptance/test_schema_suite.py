"""The schema suite: real-world shapes, each disaster restored through Slack, row by row.

Each scenario: the schema and its data, the disaster, business going on
afterwards, then ``/vault find``, *Preview restore*, *Request restore* by one
person and *Approve* by another, all as signed HTTP requests to the running
bot; then every row of every table is compared, byte for byte, with the state
before the disaster plus the later writes (``tests.support.oracle``).
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from tests.acceptance import edge, employees, sakila
from tests.acceptance.scenario import Scenario, play
from tests.support.flows import first_button, request
from tests.support.oracle import differences, snapshot
from tests.support.slack import assert_valid_message

SCENARIOS = (*edge.SCENARIOS, *sakila.SCENARIOS, employees.SCENARIO)
BIG = 10_000_000  # typed confirmation has tests of its own
FINAL = ("executed", "failed", "stale")


def _preview_or_refusal(bot: OfflineBot, table: str) -> Call:
    bot.driver.slash(f"find {table}", user="U0ALICE")
    found = wait_until(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restore point" in c.text],
        timeout=60,
        what="the finder",
    )[-1]
    bot.driver.click(Action.PREVIEW_RESTORE.value, first_button(found), user="U0ALICE")
    return wait_until(
        lambda: [
            c
            for c in bot.slack.calls
            if (c.method == "chat.postMessage" and "Restore preview" in c.text)
            or (c.kind == "response" and c.params.get("response_type") == "ephemeral")
        ],
        timeout=120,
        what="the preview",
    )[-1]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name.split(":")[0])
def test_restored_through_slack_equals_history_plus_later_writes(
    database_url: str, engine: Engine, scenario: Scenario
) -> None:
    played = play(engine, scenario)
    with OfflineBot(database_url, vault_confirm_rows=BIG) as bot:
        preview = _preview_or_refusal(bot, scenario.table)
        assert preview.method == "chat.postMessage", preview.params.get("text")
        assert_valid_message(preview.text, preview.blocks)
        text = preview.block_text
        assert "Damaging statement" in text and "Rehearsed just now and rolled back" in text
        plan_id = first_button(preview)
        request(bot, plan_id, user="U0ALICE")
        bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
        final = wait_until(
            lambda: (p := bot.store.plans.get(plan_id)) and p.state.value in FINAL and p,
            timeout=120,
            what="the restore's outcome",
        )
        assert final.state.value == "executed", bot.store.audit.trail()[-1]["detail"]
        outcome = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text],
            what="the outcome",
        )[-1]
        assert_valid_message(outcome.text, outcome.blocks)
        assert (
            "Verified:" in outcome.block_text and "rows equal their versions" in outcome.block_text
        )
    assert differences(snapshot(engine), played.expected) == []


def test_trigger_that_defeats_the_restore_is_refused_before_approval(
    database_url: str, engine: Engine
) -> None:
    scenario = sakila.RENTAL_CLASH
    played = play(engine, scenario)
    with OfflineBot(database_url) as bot:
        refusal = _preview_or_refusal(bot, scenario.table)
        said = str(refusal.params.get("text"))
        assert refusal.kind == "response", said
        assert scenario.refused is not None and scenario.refused in said
        assert "rehearsed this restore and rolled it back" in said
        assert not bot.store.plans.pending(source=bot.runtime.deps.source)  # nothing to approve
    assert snapshot(engine) == played.later  # nothing changed


def test_preview_names_the_triggers_the_restore_fires(database_url: str, engine: Engine) -> None:
    play(engine, sakila.CUSTOMERS)
    with OfflineBot(database_url) as bot:
        text = _preview_or_refusal(bot, "customer").block_text
    assert "*Triggers its writes fire*" in text
    assert "`payment_date` (BEFORE INSERT ON `payment`): rewrites `payment_date`" in text
    assert "`customer`: 30 rows to re-insert" in text
    assert "`payment`: 300 rows to re-insert" in text and "`rental`: 300 rows to re-insert" in text
