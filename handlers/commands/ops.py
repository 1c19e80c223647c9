"""``/vault status``, ``/vault dismiss``, ``/vault watch``, ``/vault unwatch``, ``/vault audit``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from handlers.reporting import run_reported, sentence
from usecases import incidents
from usecases.context import Context
from usecases.errors import VaultError


def status(*, ack: Ack, deps: Context, respond: Respond, **_: Any) -> None:
    ack(response_type="ephemeral", text="Gathering FlightVault's status…")

    def work() -> None:
        message = incidents.status(deps)
        respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())

    deps.readers.submit(run_reported, respond, "reporting status", work, replace=True)


def _answer(ack: Ack, answer: Callable[[], str]) -> None:
    """Quick subcommands answer in the ack: the sentence, or why not."""
    try:
        ack(response_type="ephemeral", text=answer())
    except VaultError as exc:
        ack(response_type="ephemeral", text=sentence(exc))


def dismiss(*, ack: Ack, deps: Context, args: list[str], command: dict[str, Any], **_: Any) -> None:
    _answer(ack, lambda: incidents.dismiss(deps, args, actor=command["user_id"]))


def watching(watch: bool) -> Any:
    def handle(
        *, ack: Ack, deps: Context, args: list[str], command: dict[str, Any], **_: Any
    ) -> None:
        user = command["user_id"]
        _answer(ack, lambda: incidents.set_watched(deps, args, watch=watch, actor=user))

    return handle


def audit(*, ack: Ack, deps: Context, args: list[str], **_: Any) -> None:
    try:
        message = incidents.audit(deps, args)
    except VaultError as exc:
        ack(response_type="ephemeral", text=sentence(exc))
        return
    ack(response_type="ephemeral", **message.as_kwargs())
