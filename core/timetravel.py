"""``/vault at``: a table at an instant, what changed since, and the neighbouring events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from core.catalogue import Catalogue
from core.errors import InvalidInput
from core.finder import first_version
from core.history import TableDiff, count_at, diff, list_events, server_now
from core.timeutil import ONE_MICROSECOND, fmt_instant

LOOK_AROUND = timedelta(days=7)


@dataclass(frozen=True)
class TimeTravel:
    table: str
    instant: datetime
    now: datetime
    rows_then: int
    rows_now: int
    diff: TableDiff
    previous: datetime | None
    next: datetime | None


def travel(conn: Connection, catalogue: Catalogue, name: str, instant: datetime) -> TimeTravel:
    table = catalogue.watchable(name)
    now = server_now(conn)
    if instant > now:
        raise InvalidInput("That time is in the future; the history ends now.")
    start = first_version(conn, table)
    if start is not None and instant < start:
        raise InvalidInput(
            f"`{name}` keeps history only from {fmt_instant(start)}; pick a later time."
        )
    inserts = bool(table.period and table.period.start_indexed)
    before = list_events(
        conn, catalogue, since=instant - LOOK_AROUND, until=instant, tables=[name], inserts=inserts
    )
    after = list_events(
        conn,
        catalogue,
        since=instant,
        until=min(instant + LOOK_AROUND, now),
        tables=[name],
        inserts=inserts,
    )
    return TimeTravel(
        table=name,
        instant=instant,
        now=now,
        rows_then=count_at(conn, table, instant),
        rows_now=count_at(conn, table, now),
        diff=diff(conn, table, instant, now, sample=5),
        # Between two events the table does not change, so "previous" is the state just
        # before the nearest change at or before this instant.
        previous=before[-1].instant - ONE_MICROSECOND if before else None,
        next=after[0].instant if after else None,
    )
