"""The alert's buttons: ack at once, answer in the incident's thread."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from core.catalogue import load_catalogue
from core.errors import InvalidInput
from core.incident_rows import incident_rows, incident_tables
from core.state.store import Incident
from handlers.actions.payload import button_value
from handlers.reporting import after_ack
from handlers.slack_port import SlackPort
from usecases import find, threads
from usecases.context import Context
from usecases.render.alert import full_diff_message
from usecases.render.csv_export import write_row_changes

Listener = Callable[..., None]


def _incident(deps: Context, body: dict[str, Any]) -> Incident:
    incident = deps.store.incident(button_value(body))
    if incident is None:
        raise InvalidInput(
            "I can't find that incident any more; run `/vault help` to see what I can do."
        )
    return incident


def on_find_restore_point(deps: Context) -> Listener:
    """The same finder as ``/vault find``, bounded to the incident, answered in its thread."""
    return after_ack(
        deps.workers, "finding a restore point", lambda body, client: _find(deps, body, client)
    )


def _find(deps: Context, body: dict[str, Any], client: WebClient) -> None:
    incident = _incident(deps, body)
    find.find(
        deps,
        SlackPort(client, None),
        find.FindRequest.for_incident(incident),
        thread=threads.of_incident(incident),
        incident_id=incident.id,
        actor=body["user"]["id"],
    )


def on_show_full_diff(deps: Context) -> Listener:
    return after_ack(
        deps.workers, "showing the full diff", lambda body, client: _full_diff(deps, body, client)
    )


def _full_diff(deps: Context, body: dict[str, Any], client: WebClient) -> None:
    incident = _incident(deps, body)
    thread = threads.of_incident(incident)
    records = deps.store.incident_events(incident.id)
    totals = incident_tables(records)
    with tempfile.TemporaryDirectory() as folder, deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        uploads = [
            write_row_changes(folder, table, incident_rows(conn, catalogue, records, table))
            for table in totals
        ]
        message = full_diff_message(incident, totals, len(uploads))
        client.chat_postMessage(**thread.kwargs(), **message.as_kwargs())
        client.files_upload_v2(channel=thread.channel, thread_ts=thread.ts, file_uploads=uploads)
