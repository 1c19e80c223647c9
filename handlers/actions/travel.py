"""Time-travel buttons: step to the previous or next change event, in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from handlers.actions.payload import button_value
from handlers.reporting import after_ack
from handlers.slack_port import SlackPort
from usecases import travel
from usecases.context import Context
from usecases.port import Posted


def step(deps: Context, *, forward: bool) -> Callable[..., None]:
    def work(body: dict[str, Any], client: WebClient) -> None:
        shown = Posted(body["channel"]["id"], body["container"]["message_ts"])
        travel.step(deps, SlackPort.of(deps, client), button_value(body), shown, forward=forward)

    return after_ack(deps, deps.readers, "stepping through time", work)
