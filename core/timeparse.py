"""Times as people type them: ISO-8601, ``15m ago``, Slack's ``<!date^…>`` tokens.

Every instant comes back timezone-aware. A time without a zone is read in
the database sessions' zone, which FlightVault pins to UTC; answers say so.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.errors import InvalidInput

ASSUMED_ZONE = "UTC"
_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_SLACK_DATE = re.compile(r"^<!date\^(\d{1,12})\^[^|>]*(?:\|[^>]*)?>$")
MAX_TEXT = 64


LOOK_BACK = timedelta(days=366)
LOOK_BACK_SAID = "That duration is longer than a year; FlightVault looks back at most a year."


def parse_duration(
    text: str, *, longest: timedelta = LOOK_BACK, too_long: str = LOOK_BACK_SAID
) -> timedelta:
    """``90s``, ``15m``, ``1h30m``, ``2 days``; raises ``InvalidInput``. ``longest`` and
    ``too_long`` fit the question: how far back to look, or how long to keep history."""
    cleaned = text.strip().lower().removesuffix("ago").strip()
    parts = _PART.findall(cleaned)
    if not parts or _PART.sub("", cleaned).strip():
        raise InvalidInput(f"`{_shown(text)}` is not a duration; try `15m`, `2h` or `1d`.")
    seconds = 0.0
    for amount, unit in parts:
        if unit not in _UNITS:
            raise InvalidInput(f"`{unit}` is not a time unit; use s, m, h, d or w.")
        seconds += float(amount) * _UNITS[unit]
    if seconds > longest.total_seconds():
        raise InvalidInput(too_long)
    return timedelta(seconds=seconds)


def parse_instant(text: str, *, now: datetime) -> datetime:
    """An instant from ISO-8601, a duration ago, ``now``, or a Slack date token."""
    raw = text.strip()
    if not raw or len(raw) > MAX_TEXT:
        raise InvalidInput("Give a time such as `2026-11-22 14:03:07.123456`, `15m ago` or `now`.")
    if raw.lower() == "now":
        return now
    if match := _SLACK_DATE.match(raw):
        return datetime.fromtimestamp(int(match.group(1)), UTC)
    try:
        parsed = datetime.fromisoformat(raw.replace(" UTC", "").replace("Z", "+00:00"))
    except ValueError:
        pass
    else:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    try:
        return now - parse_duration(raw)
    except InvalidInput:
        raise InvalidInput(
            f"`{_shown(raw)}` is not a time I understand; use ISO-8601 "
            "(`2026-11-22 14:03:07`, zone optional, UTC assumed) or `15m ago`."
        ) from None


def _shown(text: str) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= 40 else text[:37] + "..."
