"""Shared steps of slow subcommands: validate before the ack, answer where the incident lives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render.chart import timeline_png
from bot.render.finder import searching_message
from core.catalogue import Catalogue, load_catalogue
from core.errors import VaultError
from core.finder import Finding
from core.history import event_to_json
from core.timeline import row_count_timeline

T = TypeVar("T")


def accept(
    deps: Deps, ack: Ack, parse: Callable[[datetime], T], table_of: Callable[[T], str]
) -> tuple[Catalogue, datetime, T] | None:
    """Parse and check the table before the ack; ack "Searching…" or one refusal sentence.

    Returns None when the command was refused (already answered).
    """
    try:
        catalogue, now = deps.catalogue(), datetime.now(UTC)
        parsed = parse(now)
        catalogue.watchable(table_of(parsed))
    except VaultError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return None
    ack(response_type="ephemeral", **searching_message(table_of(parsed)).as_kwargs())
    return catalogue, now, parsed


def destination(
    deps: Deps, table: str, command: dict[str, Any], now: datetime
) -> tuple[dict[str, str], str | None]:
    """The open incident's thread (and its ID) for this table, else the command's channel."""
    incident = deps.store.active_incident(
        source=deps.source, table=table, since=now - timedelta(hours=24)
    )
    if incident is not None and incident.channel and incident.root_ts:
        return {"channel": incident.channel, "thread_ts": incident.root_ts}, incident.id
    return {"channel": command["channel_id"]}, None


def save_finding(
    deps: Deps, finding: Finding, incident_id: str | None = None, actor: str = "flightvault"
) -> str:
    """Keep what the finder found, so *Preview restore* plans exactly that damage."""
    return deps.store.save_finding(
        source=deps.source,
        table=finding.table,
        restore_point=finding.restore_point,
        damage=[event_to_json(e) for e in finding.damage],
        incident_id=incident_id,
        actor=actor,
    )


def upload_timeline(
    deps: Deps, client: WebClient, finding: Finding, channel: str, thread_ts: str
) -> None:
    """The finder's picture: row count over the window, damage and restore point marked."""
    with deps.engine.connect() as conn:
        points = row_count_timeline(
            conn,
            load_catalogue(conn),
            finding.table,
            since=finding.window[0] if finding.window else finding.restore_point,
        )
    png = timeline_png(finding.table, points, finding.damage[0].instant, finding.restore_point)
    client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        content=png,
        filename=f"{finding.table}-timeline.png",
        title=f"{finding.table}: rows over time",
    )
