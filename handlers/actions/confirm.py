"""Approving a large restore: the button opens a dialog, the typed table name approves.

The dialog is opened while the click's ``trigger_id`` is fresh (Slack allows 3
seconds), after the refusals the approval would meet anyway; the submission
is checked again before the ack, so a wrong name is shown in the dialog
itself, and the approval then runs on a worker like any other click.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import log_unexpected, unexpected_sentence
from handlers.actions.payload import button_value, clicked_on
from handlers.authz import approver
from handlers.reporting import Work, hand_off, reported, sentence
from handlers.slack_port import SlackPort
from usecases import restore as restore_flow
from usecases.context import Context
from usecases.errors import VaultError
from usecases.render.confirm import CONFIRM_BLOCK, CONFIRM_INPUT, confirm_modal
from usecases.restore import PlanRecord

log = logging.getLogger(__name__)
Listener = Callable[..., None]


def on_approve(deps: Context, one_click: Work) -> Listener:
    """``one_click`` approves plans small enough to approve with the button alone.

    The ack comes first: looking the plan up waits on the state store, which
    fifty simultaneous clicks must not turn into a late ack.
    """

    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(respond, what="opening the confirmation dialog"):
            rec = deps.store.plans.get(button_value(body))
            if rec is None or not restore_flow.needs_typing(deps, rec):
                hand_off(deps.workers, respond, "handling approve", one_click, body, client)
                return
            user = body["user"]["id"]
            restore_flow.check_approval(
                rec, user, authorised=approver(deps, client, user), shown=clicked_on(body)
            )
            modal = confirm_modal(rec, deps.settings.vault_confirm_rows)
            client.views_open(trigger_id=body["trigger_id"], view=modal)

    return listener


def on_submit(deps: Context) -> Listener:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, view: dict[str, Any]) -> None:
        rec = deps.store.plans.get(str(view.get("private_metadata", ""))[:64])
        values = view.get("state", {}).get("values", {})
        typed = str((values.get(CONFIRM_BLOCK, {}).get(CONFIRM_INPUT) or {}).get("value") or "")
        if rec is None:
            ack(response_action="errors", errors={CONFIRM_BLOCK: "That plan is no longer known."})
            return
        if not restore_flow.typed_matches(rec, typed):
            ack(
                response_action="errors",
                errors={CONFIRM_BLOCK: f"Type {rec.table} exactly to approve; nothing changed."},
            )
            return
        ack()
        deps.workers.submit(_approve, deps, client, rec, body["user"]["id"])

    return listener


def _approve(deps: Context, client: WebClient, rec: PlanRecord, user: str) -> None:
    """After the dialog closed there is no response_url: refusals come back as an ephemeral
    message beside the preview."""
    try:
        authorised = approver(deps, client, user)
        out = SlackPort.of(deps, client)
        restore_flow.decide(
            deps, out, "approve", rec.id, user, authorised=authorised, confirmed=True
        )
        return
    except VaultError as exc:
        said = sentence(exc)
    except Exception:
        said = unexpected_sentence(log_unexpected(log, "approving a confirmed restore"))
    if rec.channel:
        client.chat_postEphemeral(channel=rec.channel, user=user, text=said)
