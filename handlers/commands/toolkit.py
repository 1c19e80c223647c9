"""``/vault freeze``, ``unfreeze``, ``drill`` and ``report``: ack, then the flow on a worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import parse_drill
from handlers.authz import approver
from handlers.commands.common import accept
from handlers.reporting import run_reported
from handlers.slack_port import SlackPort
from usecases import drill as drill_flow
from usecases import freeze as freeze_flow
from usecases import threads
from usecases.context import Context
from usecases.report import post_report


def _one_target(ack: Ack, args: list[str], verb: str) -> str | None:
    if len(args) != 1:
        ack(
            response_type="ephemeral",
            text=f"Name one table, or `database` for the whole server: `/vault {verb} airports`.",
        )
        return None
    return args[0][:64]


def freeze(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    **_: Any,
) -> None:
    word = _one_target(ack, args, "freeze")
    if word is None:
        return
    ack(response_type="ephemeral", text=f"Freezing `{word}`…")

    def work() -> None:
        view, target = freeze_flow.target(deps, word)
        thread, incident_id = threads.for_table(
            view, target, command["channel_id"], datetime.now(UTC)
        )
        out = SlackPort.of(view, client)
        done = freeze_flow.freeze(view, out, target, command["user_id"], thread, incident_id)
        respond(replace_original=True, text=f"Froze {done.target}; the notice is in the channel.")

    deps.workers.submit(run_reported, respond, "freezing", work, replace=True)


def unfreeze(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    **_: Any,
) -> None:
    word = _one_target(ack, args, "unfreeze")
    if word is None:
        return
    ack(response_type="ephemeral", text=f"Asking to unfreeze `{word}`…")

    def work() -> None:
        user, channel = command["user_id"], command["channel_id"]
        view, target = freeze_flow.target(deps, word)
        asked = freeze_flow.request_unfreeze(
            view,
            SlackPort.of(view, client),
            target,
            user,
            channel,
            authorised=approver(deps, client, user),
        )
        respond(
            replace_original=True,
            text=f"Asked to unfreeze {asked.target}; a second approver must approve it.",
        )

    deps.workers.submit(run_reported, respond, "asking to unfreeze", work, replace=True)


def drill(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    **_: Any,
) -> None:
    window = timedelta(seconds=deps.settings.vault_drill_window)
    accepted = accept(
        deps, ack, lambda now: parse_drill(args, now=now, window=window), lambda r: r[0]
    )
    if accepted is None:
        return
    now, (_, instant), view, table = accepted

    def work() -> None:
        thread, _ = threads.for_table(view, table, command["channel_id"], now)
        out = SlackPort.of(view, client)
        drill_flow.drill(view, out, table, instant, command["user_id"], thread)
        respond(delete_original=True)

    deps.workers.submit(run_reported, respond, "running a drill", work, replace=True)


def report(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    **_: Any,
) -> None:
    ack(response_type="ephemeral", text="Writing the incident report…")

    def work() -> None:
        out = SlackPort.of(deps, client)
        prefix = args[0] if args else None
        made = post_report(deps, out, prefix, channel=command["channel_id"])
        respond(replace_original=True, text=f"Uploaded `{made.filename}` to the incident's thread.")

    deps.readers.submit(run_reported, respond, "writing the report", work, replace=True)
