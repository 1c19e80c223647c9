"""Routes ``/vault <subcommand>`` to its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from bot.commands import BY_NAME, split_command
from bot.deps import Deps
from bot.render.help import help_message, unknown_subcommand


def make_listener(deps: Deps) -> Callable[..., None]:
    schema = deps.engine.url.database or ""

    def vault(ack: Ack, command: dict[str, Any]) -> None:
        name, _args = split_command(command.get("text", ""))
        if name not in BY_NAME:
            ack(response_type="ephemeral", **unknown_subcommand(name).as_kwargs())
            return
        ack(response_type="ephemeral", **help_message(schema).as_kwargs())

    return vault
