"""Above VAULT_CONFIRM_ROWS the Approve button opens a dialog; only typing the table name
approves, and closing the dialog changes nothing."""

from __future__ import annotations

import time

from slack_sdk.models.views import View as Modal
from sqlalchemy.engine import Engine

from bot.ids import Action, View
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from core.approvals import Refused
from handlers.slack_port import SlackPort
from tests.core.detect_schema import STATIONS
from tests.support.flows import find_and_preview, request, wait_state
from tests.support.sql import run_sql
from usecases import restore as restore_flow
from usecases.render.confirm import CONFIRM_BLOCK, CONFIRM_INPUT


def typed(text: str) -> dict[str, dict[str, str]]:
    return {CONFIRM_BLOCK: {CONFIRM_INPUT: text}}


def test_large_restore_needs_the_table_name_typed(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")  # 100 + 300 rows
    with OfflineBot(database_url, vault_confirm_rows=50) as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)

        bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
        opened = bot.slack.wait_for("views.open")[0]
        modal = opened.params["view"]
        Modal(**modal).validate_json()  # Slack's limits for modals
        assert modal["callback_id"] == View.CONFIRM_RESTORE.value
        assert modal["private_metadata"] == plan_id
        assert "400 rows" in modal["blocks"][0]["text"]["text"]

        # Closing the dialog sends nothing: the plan waits, nothing ran.
        time.sleep(1.0)
        assert bot.store.plans.get(plan_id).state.value == "requested"

        # A wrong name is refused inside the dialog; nothing changes.
        reply = bot.driver.submit_view(
            View.CONFIRM_RESTORE.value, plan_id, typed("Stations"), user="U0BOB"
        )
        assert reply.status == 200
        assert reply.json()["response_action"] == "errors"
        assert "Type stations exactly" in reply.json()["errors"][CONFIRM_BLOCK]
        assert bot.store.plans.get(plan_id).state.value == "requested"

        # The requester typing the name is still not a second person.
        bot.driver.submit_view(View.CONFIRM_RESTORE.value, plan_id, typed("stations"))
        refusal = wait_until(lambda: bot.slack.calls_to("chat.postEphemeral"), what="refusal")
        assert "second, different person" in refusal[0].text
        assert refusal[0].params["user"] == "U0ALICE"

        # The right name from a second approver approves and the restore runs.
        reply = bot.driver.submit_view(
            View.CONFIRM_RESTORE.value, plan_id, typed(" stations "), user="U0BOB"
        )
        assert reply.status == 200 and not reply.body
        wait_state(bot, plan_id, "executed")
        assert len(bot.slack.calls_to("views.open")) == 1
        actions = [e["action"] for e in bot.store.audit.trail(limit=None)]
        assert actions.count("approve") == 1


def test_a_forged_approve_click_cannot_skip_the_dialog(database_url: str, engine: Engine) -> None:
    """Even if the click's dialog path is bypassed, the decision itself refuses an
    unconfirmed approval of a large plan."""
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url, vault_confirm_rows=50) as bot:
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        deps = bot.runtime.deps
        try:
            out = SlackPort.of(deps, bot.app.client)
            restore_flow.decide(deps, out, "approve", plan_id, "U0BOB", authorised=lambda: True)
        except Refused as exc:
            assert "VAULT_CONFIRM_ROWS" in str(exc)
        else:
            raise AssertionError("an unconfirmed approval of a large plan went through")
        assert bot.store.plans.get(plan_id).state.value == "requested"
        trail = bot.store.audit.trail(limit=None)
        assert trail[-1]["action"] == "refused approve"
        assert trail[-1]["detail"] == "typed confirmation missing"


def test_small_restores_still_approve_with_one_click(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url) as bot:  # default threshold: 10,000 rows
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user="U0BOB")
        wait_state(bot, plan_id, "executed")
        assert not bot.slack.calls_to("views.open")
