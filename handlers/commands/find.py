"""``/vault find``: ack with "Searching…", run the finder, post the answer, tidy up."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import parse_find
from bot.deps import Deps
from bot.render.finder import finder_message
from core.finder import find_restore_point
from handlers.commands.common import accept, destination, save_finding, upload_timeline
from handlers.reporting import run_reported


def handle(
    *,
    ack: Ack,
    deps: Deps,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    accepted = accept(deps, ack, lambda now: parse_find(args, now=now), lambda r: r.table)
    if accepted is None:
        return
    catalogue, now, request = accepted

    def work() -> None:
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
        deps.metrics.finder_duration.observe(finding.seconds)
        finding_id = save_finding(deps, finding, incident_id, command["user_id"])
        posted = client.chat_postMessage(**where, **finder_message(finding, finding_id).as_kwargs())
        respond(delete_original=True)
        thread = where.get("thread_ts") or posted["ts"]
        upload_timeline(deps, client, finding, posted["channel"], thread)

    deps.workers.submit(run_reported, respond, "finding the restore point", work, replace=True)
