"""Routes ``/vault <subcommand>`` to its handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import split_command
from handlers.authz import APPROVERS_ONLY, is_authorised
from handlers.commands import at, find, ops, toolkit
from handlers.reporting import sentence
from usecases.context import Context
from usecases.errors import VaultError, not_allowed
from usecases.render.help import help_message, unknown_subcommand

Route = Callable[..., None]


def make_listener(deps: Context) -> Callable[..., None]:
    schema = deps.engine.url.database or ""

    def show_help(ack: Ack, **_: Any) -> None:
        ack(response_type="ephemeral", **help_message(schema).as_kwargs())

    routes: dict[str, Route] = {
        "help": show_help,
        "find": find.handle,
        "at": at.handle,
        "audit": ops.audit,
        "status": ops.status,
        "dismiss": ops.dismiss,
        "watch": ops.watching(True),
        "unwatch": ops.watching(False),
        "freeze": toolkit.freeze,
        "unfreeze": toolkit.unfreeze,
        "drill": toolkit.drill,
        "report": toolkit.report,
    }

    def vault(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        try:
            name, args = split_command(command.get("text", ""))
        except VaultError as exc:
            ack(response_type="ephemeral", text=sentence(exc))
            return
        route = routes.get(name)
        if route is None:
            ack(response_type="ephemeral", **unknown_subcommand(name).as_kwargs())
            return
        what = APPROVERS_ONLY.get(name)
        approvers = deps.settings.vault_approvers
        if what is not None and not is_authorised(client, command["user_id"], approvers):
            ack(response_type="ephemeral", text=not_allowed(what))
            return
        route(ack=ack, deps=deps, args=args, command=command, respond=respond, client=client)

    return vault
