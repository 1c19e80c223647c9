"""``/vault protect`` and ``/vault retention``: parse, ack, then the request on a worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import parse_protect, parse_retention
from handlers.reporting import run_reported, sentence
from handlers.slack_port import SlackPort
from usecases import protect as protect_flow
from usecases import retention as retention_flow
from usecases.context import Context
from usecases.errors import VaultError
from usecases.port import Thread


def _parsed(ack: Ack, parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except VaultError as exc:
        ack(response_type="ephemeral", text=sentence(exc))
        return None


def _post_request(
    deps: Context,
    respond: Respond,
    client: WebClient,
    command: dict[str, Any],
    doing: str,
    request: Callable[[Context, SlackPort, str, Thread], object],
) -> None:
    """Post the change request on a worker: both kinds go to the same two-person rule,
    so the person who asked hears the same thing back."""

    def work() -> None:
        out = SlackPort.of(deps, client)
        request(deps, out, command["user_id"], Thread(command["channel_id"]))
        respond(replace_original=True, text="Posted the request; a second approver must approve.")

    deps.readers.submit(run_reported, respond, doing, work, replace=True)


def protect(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    **_: Any,
) -> None:
    table = _parsed(ack, lambda: parse_protect(args))
    if table is None:
        return
    ack(response_type="ephemeral", text=f"Sizing `{table}` for versioning…")
    _post_request(
        deps,
        respond,
        client,
        command,
        "previewing protect",
        lambda ctx, out, user, thread: protect_flow.request(ctx, out, table, user, thread),
    )


def retention(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    **_: Any,
) -> None:
    parsed = _parsed(ack, lambda: parse_retention(args))
    if parsed is None:
        return
    table, keep = parsed
    ack(response_type="ephemeral", text=f"Reading the history of `{table}`…")
    _post_request(
        deps,
        respond,
        client,
        command,
        "setting retention",
        lambda ctx, out, user, thread: retention_flow.request(ctx, out, table, keep, user, thread),
    )
