"""Restore buttons: ack at once, then the flow; refusals become private sentences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot import restore_flow
from bot.deps import Deps
from core.errors import InvalidInput
from handlers.reporting import reported

Listener = Callable[..., None]


def _value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))[:64]


def _thread(body: dict[str, Any]) -> dict[str, str]:
    """Answer in the thread of the clicked message (or start one under it)."""
    message = body.get("message") or {}
    root = message.get("thread_ts") or body["container"]["message_ts"]
    return {"channel": body["channel"]["id"], "thread_ts": root}


def on_preview(deps: Deps) -> Listener:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(respond, what="previewing a restore"):
            restore_flow.preview_finding(
                deps, client, _value(body), body["user"]["id"], _thread(body)
            )

    return listener


def on_preview_to_here(deps: Deps) -> Listener:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(respond, what="previewing a restore to an instant"):
            saved = deps.store.view(_value(body))
            if saved is None:
                raise InvalidInput("That time-travel view has expired; run `/vault at` again.")
            table, instant = saved
            restore_flow.preview_to_instant(
                deps, client, table, instant, body["user"]["id"], _thread(body)
            )

    return listener


def on_decision(deps: Deps, action: str) -> Listener:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(respond, what=f"handling {action}"):
            restore_flow.decide(deps, client, action, _value(body), body["user"]["id"])

    return listener


def on_undo(deps: Deps) -> Listener:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(respond, what="previewing an undo"):
            restore_flow.preview_undo(deps, client, _value(body), body["user"]["id"])

    return listener
