"""``/vault find``: checked before the ack, then the find use case on a worker."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import parse_find
from handlers.commands.common import accept
from handlers.reporting import run_reported
from handlers.slack_port import SlackPort
from usecases import find, threads
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
    accepted = accept(deps, ack, lambda now: parse_find(args, now=now), lambda r: r.table)
    if accepted is None:
        return
    now, asked, view, table = accepted
    request = replace(asked, table=table)

    def work() -> None:
        thread, incident_id = threads.for_table(view, table, command["channel_id"], now)
        out = SlackPort(client, respond, slash=True)
        find.find(
            view, out, request, thread=thread, incident_id=incident_id, actor=command["user_id"]
        )

    deps.readers.submit(run_reported, respond, "finding the restore point", work, replace=True)
