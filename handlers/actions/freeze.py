"""The unfreeze request's buttons: ack at once, then the two-person decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from handlers.actions.payload import button_value, clicked_on
from handlers.authz import approver
from handlers.reporting import after_ack
from handlers.slack_port import SlackPort
from usecases import freeze as freeze_flow
from usecases.context import Context


def on_unfreeze(deps: Context, action: str) -> Callable[..., None]:
    def work(body: dict[str, Any], client: WebClient) -> None:
        message = clicked_on(body)
        value = button_value(body)
        user = body["user"]["id"]
        freeze_flow.decide_unfreeze(
            deps,
            SlackPort.of(deps, client),
            action,
            value,
            user,
            message,
            authorised=approver(deps, client, user),
        )

    return after_ack(deps, deps.workers, f"handling unfreeze {action}", work)
