"""Restore buttons: ack at once, then the flow; refusals become private sentences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from handlers.actions.payload import button_value, clicked_on
from handlers.authz import approver
from handlers.reporting import Work, after_ack
from handlers.slack_port import SlackPort
from usecases import restore as restore_flow
from usecases.context import Context
from usecases.port import Thread

Listener = Callable[..., None]


def _thread(body: dict[str, Any]) -> Thread:
    """Answer in the thread of the clicked message (or start one under it)."""
    message = body.get("message") or {}
    root = message.get("thread_ts") or body["container"]["message_ts"]
    return Thread(body["channel"]["id"], root)


def on_preview(deps: Context) -> Listener:
    def work(body: dict[str, Any], client: WebClient) -> None:
        user = body["user"]["id"]
        restore_flow.preview_finding(
            deps, SlackPort.of(deps, client), button_value(body), user, _thread(body)
        )

    return after_ack(deps, deps.readers, "previewing a restore", work)


def on_preview_to_here(deps: Context) -> Listener:
    def work(body: dict[str, Any], client: WebClient) -> None:
        out = SlackPort.of(deps, client)
        restore_flow.preview_view(deps, out, button_value(body), body["user"]["id"], _thread(body))

    return after_ack(deps, deps.readers, "previewing a restore to an instant", work)


def decision(deps: Context, action: str) -> Work:
    def work(body: dict[str, Any], client: WebClient) -> None:
        user = body["user"]["id"]
        authorised = approver(deps, client, user)
        out = SlackPort.of(deps, client)
        restore_flow.decide(
            deps,
            out,
            action,
            button_value(body),
            user,
            authorised=authorised,
            shown=clicked_on(body),
        )

    return work


def on_decision(deps: Context, action: str) -> Listener:
    return after_ack(deps, deps.workers, f"handling {action}", decision(deps, action))


def on_undo(deps: Context) -> Listener:
    def work(body: dict[str, Any], client: WebClient) -> None:
        restore_flow.preview_undo(
            deps, SlackPort.of(deps, client), button_value(body), body["user"]["id"]
        )

    return after_ack(deps, deps.readers, "previewing an undo", work)
