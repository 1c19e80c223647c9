"""The alert's buttons: ack at once, answer in the incident's thread."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.deps import Deps
from bot.render.alert import full_diff_message
from bot.render.csv_export import write_row_changes
from bot.render.finder import finder_message, searching_message
from core.catalogue import load_catalogue
from core.errors import InvalidInput, VaultError
from core.finder import DEFAULT_WINDOW, find_restore_point
from core.incident_rows import incident_rows, incident_tables
from core.state.store import Incident
from core.timeutil import ONE_MICROSECOND
from handlers.actions.payload import button_value
from handlers.commands.common import save_finding, upload_timeline
from handlers.reporting import after_ack

Listener = Callable[..., None]


def _incident(deps: Deps, body: dict[str, Any]) -> Incident:
    incident = deps.store.incident(button_value(body))
    if incident is None or incident.root_ts is None or incident.channel is None:
        raise InvalidInput(
            "I can't find that incident any more; run `/vault help` to see what I can do."
        )
    return incident


def on_find_restore_point(deps: Deps) -> Listener:
    """The same finder as ``/vault find``, bounded to the incident, answered in its thread."""
    return after_ack(
        deps.workers, "finding a restore point", lambda body, client: _find(deps, body, client)
    )


def _find(deps: Deps, body: dict[str, Any], client: WebClient) -> None:
    incident = _incident(deps, body)
    thread = {"channel": incident.channel, "thread_ts": incident.root_ts}
    searching = client.chat_postMessage(**thread, **searching_message(incident.table).as_kwargs())
    try:
        with deps.engine.connect() as conn:
            finding = find_restore_point(
                conn,
                load_catalogue(conn),
                incident.table,
                since=incident.first_instant - DEFAULT_WINDOW,
                before=incident.last_instant + ONE_MICROSECOND,
                rules=deps.settings.watch_config().rules,
            )
    except VaultError:
        client.chat_delete(channel=searching["channel"], ts=searching["ts"])
        raise
    deps.metrics.finder_duration.observe(finding.seconds)
    finding_id = save_finding(deps, finding, incident.id, body["user"]["id"])
    message = finder_message(finding, finding_id)
    client.chat_update(channel=searching["channel"], ts=searching["ts"], **message.as_kwargs())
    upload_timeline(
        deps, client, finding, searching["channel"], incident.root_ts or searching["ts"]
    )


def on_show_full_diff(deps: Deps) -> Listener:
    return after_ack(
        deps.workers, "showing the full diff", lambda body, client: _full_diff(deps, body, client)
    )


def _full_diff(deps: Deps, body: dict[str, Any], client: WebClient) -> None:
    incident = _incident(deps, body)
    records = deps.store.incident_events(incident.id)
    totals = incident_tables(records)
    with tempfile.TemporaryDirectory() as folder, deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        uploads = [
            write_row_changes(folder, table, incident_rows(conn, catalogue, records, table))
            for table in totals
        ]
        message = full_diff_message(incident, totals, len(uploads))
        client.chat_postMessage(
            channel=incident.channel, thread_ts=incident.root_ts, **message.as_kwargs()
        )
        client.files_upload_v2(
            channel=incident.channel, thread_ts=incident.root_ts, file_uploads=uploads
        )
