"""``/vault at <table> <time>``: time travel, with buttons to step through events."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import parse_at
from handlers.commands.common import accept
from handlers.reporting import run_reported
from handlers.slack_port import SlackPort
from usecases import threads, travel
from usecases.context import Context


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
    now, (_, instant), view, table = accepted

    def work() -> None:
        thread, _ = threads.for_table(view, table, command["channel_id"], now)
        out = SlackPort.of(view, client, respond, slash=True)
        travel.travel_to(view, out, table, instant, thread=thread)

    deps.readers.submit(run_reported, respond, "travelling in time", work, replace=True)
