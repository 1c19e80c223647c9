"""The one place that decides where an incident's messages go."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.errors import InvalidInput
from core.state.incidents import Incident
from usecases.context import Context
from usecases.port import Thread

OPEN_FOR = timedelta(hours=24)  # an incident older than this no longer draws follow-ups


def of_incident(incident: Incident) -> Thread:
    """The alert's thread; an incident whose alert was never posted has none."""
    if incident.channel is None or incident.root_ts is None:
        raise InvalidInput(
            "I can't find that incident any more; run `/vault help` to see what I can do."
        )
    return Thread(incident.channel, incident.root_ts)


def for_table(ctx: Context, table: str, channel: str, now: datetime) -> tuple[Thread, str | None]:
    """The open incident's thread (and its ID) for ``table``, else ``channel`` itself: a
    follow-up about a table with an incident belongs in that incident's thread."""
    incident = ctx.store.incidents.active(source=ctx.source, table=table, since=now - OPEN_FOR)
    if incident is not None and incident.channel and incident.root_ts:
        return Thread(incident.channel, incident.root_ts), incident.id
    return Thread(channel), None
