"""Schema change request buttons (protect, retention): ack at once, then the decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from handlers.actions.payload import button_value, clicked_on
from handlers.authz import approver
from handlers.reporting import after_ack
from handlers.slack_port import SlackPort
from usecases import schema_change
from usecases.context import Context


def on_decision(deps: Context, action: str) -> Callable[..., None]:
    def work(body: dict[str, Any], client: WebClient) -> None:
        user = body["user"]["id"]
        schema_change.decide(
            deps,
            SlackPort.of(deps, client),
            action,
            button_value(body),
            user,
            authorised=approver(deps, client, user),
            shown=clicked_on(body),
        )

    return after_ack(deps, deps.workers, f"handling change {action}", work)
