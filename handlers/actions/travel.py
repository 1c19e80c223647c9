"""Time-travel buttons: step to the previous or next change event, in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from handlers.actions.payload import button_value, clicked_on
from handlers.reporting import after_ack
from handlers.slack_port import SlackPort
from usecases import travel
from usecases.context import Context


def step(deps: Context, *, forward: bool) -> Callable[..., None]:
    def work(body: dict[str, Any], client: WebClient) -> None:
        shown = clicked_on(body)
        travel.step(deps, SlackPort.of(deps, client), button_value(body), shown, forward=forward)

    return after_ack(deps, deps.readers, "stepping through time", work)
