"""``/vault find``: ack with "Searching…", run the finder, post the answer, tidy up."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import parse_find
from bot.deps import Deps
from bot.render.finder import finder_message, searching_message
from core.errors import VaultError
from core.finder import find_restore_point
from handlers.commands.common import destination, prepare, refuse, save_finding


def handle(
    *,
    ack: Ack,
    deps: Deps,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    ready = prepare(deps, ack)
    if ready is None:
        return
    catalogue, now = ready
    try:
        request = parse_find(args, now=now)
        catalogue.watchable(request.table)
    except VaultError as exc:
        refuse(ack, exc)
        return
    ack(response_type="ephemeral", **searching_message(request.table).as_kwargs())
    with deps.engine.connect() as conn:
        finding = find_restore_point(
            conn,
            catalogue,
            request.table,
            since=request.since,
            before=request.before,
            check=request.check,
            rules=deps.settings.watch_config().rules,
        )
    where, incident_id = destination(deps, request.table, command, now)
    finding_id = save_finding(deps, finding, incident_id)
    client.chat_postMessage(**where, **finder_message(finding, finding_id).as_kwargs())
    respond(delete_original=True)
