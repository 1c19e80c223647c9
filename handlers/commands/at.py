"""``/vault at <table> <time>``: time travel, with buttons to step through events."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import parse_at
from core.timetravel import travel
from handlers.commands.common import accept, destination
from handlers.reporting import run_reported
from usecases.context import Context
from usecases.render.timetravel import timetravel_message


def handle(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    accepted = accept(deps, ack, lambda now: parse_at(args, now=now), lambda parsed: parsed[0])
    if accepted is None:
        return
    catalogue, now, (table, instant) = accepted

    def work() -> None:
        with deps.engine.connect() as conn:
            view = travel(conn, catalogue, table, instant)
        view_id = deps.store.save_view(source=deps.source, table=table, instant=view.instant)
        where, _incident = destination(deps, table, command, now)
        client.chat_postMessage(**where, **timetravel_message(view, view_id).as_kwargs())
        respond(delete_original=True)

    deps.workers.submit(run_reported, respond, "travelling in time", work, replace=True)
