"""The alert's buttons: ack at once, answer in the incident's thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from handlers.actions.payload import button_value
from handlers.reporting import after_ack
from handlers.slack_port import SlackPort
from usecases import find, incidents, threads
from usecases.context import Context

Listener = Callable[..., None]


def on_find_restore_point(deps: Context) -> Listener:
    """The same finder as ``/vault find``, bounded to the incident, answered in its thread."""
    return after_ack(
        deps,
        deps.readers,
        "finding a restore point",
        lambda body, client: _find(deps, body, client),
    )


def _find(deps: Context, body: dict[str, Any], client: WebClient) -> None:
    incident = incidents.incident(deps, button_value(body))
    view = deps.for_source(incident.source)
    find.find(
        view,
        SlackPort.of(view, client),
        find.FindRequest.for_incident(incident),
        thread=threads.of_incident(incident),
        incident_id=incident.id,
        actor=body["user"]["id"],
    )


def on_show_full_diff(deps: Context) -> Listener:
    def work(body: dict[str, Any], client: WebClient) -> None:
        incidents.full_diff(deps, SlackPort.of(deps, client), button_value(body))

    return after_ack(deps, deps.readers, "showing the full diff", work)
