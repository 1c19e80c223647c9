"""Instants as FlightVault handles them: timezone-aware UTC, microsecond exact.

Sessions run with ``time_zone = '+00:00'`` (see ``core.db``), so the driver
hands back naive datetimes that *are* UTC. We attach the zone on the way in
and strip it on the way out, so no instant is ever compared in the wrong zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ONE_MICROSECOND = timedelta(microseconds=1)


def from_db(value: datetime) -> datetime:
    """Mark a naive UTC datetime read from a UTC session as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_db(value: datetime) -> datetime:
    """Naive UTC datetime for binding into a UTC session."""
    if value.tzinfo is None:
        raise ValueError("refusing a naive datetime: FlightVault only binds aware instants")
    return value.astimezone(UTC).replace(tzinfo=None)


def fmt_instant(value: datetime) -> str:
    """Render an instant for people: explicit zone, microseconds kept."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
