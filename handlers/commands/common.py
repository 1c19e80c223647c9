"""Shared steps of slow subcommands: validate before the ack, answer where the incident lives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack

from bot.deps import Deps
from core.catalogue import Catalogue, load_catalogue
from core.errors import VaultError
from core.finder import Finding
from core.history import event_to_json, server_now


def prepare(deps: Deps, ack: Ack) -> tuple[Catalogue, datetime] | None:
    """Catalogue and server time, or None after acking the error as one sentence."""
    try:
        with deps.engine.connect() as conn:
            return load_catalogue(conn), server_now(conn)
    except VaultError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return None


def refuse(ack: Ack, exc: VaultError) -> None:
    ack(response_type="ephemeral", text=str(exc))


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


def save_finding(deps: Deps, finding: Finding, incident_id: str | None = None) -> str:
    """Keep what the finder found, so *Preview restore* plans exactly that damage."""
    return deps.store.save_finding(
        source=deps.source,
        table=finding.table,
        restore_point=finding.restore_point,
        damage=[event_to_json(e) for e in finding.damage],
        incident_id=incident_id,
    )
