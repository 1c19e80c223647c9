"""A table's row count over time, from its change events (no snapshot per point)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from core.catalogue import Catalogue
from core.finder import estimate_rows
from core.history import list_events, server_now


def row_count_timeline(
    conn: Connection, catalogue: Catalogue, name: str, *, since: datetime
) -> list[tuple[datetime, int]]:
    """(instant, rows after it) from ``since`` to now, walking the events backwards from now."""
    table = catalogue.watchable(name)
    now = server_now(conn)
    rows, _exact = estimate_rows(conn, table)
    events = list_events(conn, catalogue, since=since, until=now, tables=[name], inserts=True)
    points = [(now, rows)]
    for event in reversed(events):
        change = event.for_table(name)
        if change is None:
            continue
        points.append((event.instant, rows))
        rows = rows - change.inserted + change.deleted  # the count just before this event
    points.append((since, rows))
    return points[::-1]
