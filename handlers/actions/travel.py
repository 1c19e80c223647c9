"""Time-travel buttons: step to the previous or next change event, in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from core.catalogue import load_catalogue
from core.errors import InvalidInput
from core.timetravel import travel
from handlers.actions.payload import button_value
from handlers.reporting import after_ack
from usecases.context import Context
from usecases.render.timetravel import timetravel_message


def step(deps: Context, *, forward: bool) -> Callable[..., None]:
    return after_ack(
        deps.workers,
        "stepping through time",
        lambda body, client: _step(deps, body, client, forward),
    )


def _step(deps: Context, body: dict[str, Any], client: WebClient, forward: bool) -> None:
    saved = deps.store.view(button_value(body))
    if saved is None:
        raise InvalidInput("That time-travel view has expired; run `/vault at` again.")
    table, instant = saved
    with deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        here = travel(conn, catalogue, table, instant)
        target = here.next if forward else here.previous
        if target is None:
            raise InvalidInput("There is no change event further that way in the history.")
        view = travel(conn, catalogue, table, target)
    view_id = deps.store.save_view(source=deps.source, table=table, instant=view.instant)
    client.chat_update(
        channel=body["channel"]["id"],
        ts=body["container"]["message_ts"],
        **timetravel_message(view, view_id).as_kwargs(),
    )
