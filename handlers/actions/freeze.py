"""The unfreeze request's buttons: ack at once, then the two-person decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot import freeze_flow
from bot.deps import Deps
from handlers.actions.payload import button_value
from handlers.reporting import after_ack


def on_unfreeze(deps: Deps, action: str) -> Callable[..., None]:
    def work(body: dict[str, Any], client: WebClient) -> None:
        message = {"channel": body["channel"]["id"], "ts": body["container"]["message_ts"]}
        value = button_value(body)
        freeze_flow.decide_unfreeze(deps, client, action, value, body["user"]["id"], message)

    return after_ack(deps.workers, f"handling unfreeze {action}", work)
