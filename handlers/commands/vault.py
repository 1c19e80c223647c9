"""Routes ``/vault <subcommand>`` to its handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.commands import split_command
from handlers.authz import decide
from handlers.commands import at, changes, find, ops, toolkit
from handlers.inline import Inline
from handlers.reporting import deferred, run_reported, sentence
from usecases.context import Context
from usecases.errors import VaultError
from usecases.render.help import help_message, unknown_subcommand

Route = Callable[..., None]


def make_listener(deps: Context) -> Callable[..., None]:
    schema = ", ".join(deps.schema_names)

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
        "protect": changes.protect,
        "retention": changes.retention,
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
        call = {"deps": deps, "args": args, "command": command, "respond": respond}
        decided = decide(deps, client, command["user_id"], name, ask=False)
        if decided is False:  # Slack must be asked: ack first, decide on a worker
            ack(response_type="ephemeral", text="Checking that you may do this…")
            later = deferred(respond)
            deps.workers.submit(
                run_reported, respond, f"checking {name}", _guarded, name, later, client, call
            )
            return
        if isinstance(decided, str):
            ack(response_type="ephemeral", text=decided)
            return
        route(ack=ack, client=client, **call)

    def _guarded(name: str, ack: Callable[..., None], client: WebClient, call: Any) -> None:
        refusal = decide(deps, client, call["command"]["user_id"], name, ask=True)
        if isinstance(refusal, str):
            ack(response_type="ephemeral", text=refusal)
            return
        inline = {**call, "deps": replace(deps, workers=Inline(), readers=Inline())}  # on a worker
        routes[name](ack=ack, client=client, **inline)

    return vault
