"""Times as people type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInput
from core.timeparse import parse_duration, parse_instant

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22 10:15:00", datetime(2026, 11, 22, 10, 15, tzinfo=UTC)),
        ("2026-11-22T10:15:00.123456", datetime(2026, 11, 22, 10, 15, 0, 123456, tzinfo=UTC)),
        ("2026-11-22T15:45:00+05:30", datetime(2026, 11, 22, 10, 15, tzinfo=UTC)),
        ("2026-11-22T10:15:00Z", datetime(2026, 11, 22, 10, 15, tzinfo=UTC)),
        ("2026-11-22 10:15:00.000001 UTC", datetime(2026, 11, 22, 10, 15, 0, 1, tzinfo=UTC)),
        ("15m ago", NOW - timedelta(minutes=15)),
        ("1h30m", NOW - timedelta(minutes=90)),
        ("2 days ago", NOW - timedelta(days=2)),
        ("now", NOW),
        ("<!date^1795348800^{date_short}|Nov 22>", datetime.fromtimestamp(1795348800, UTC)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_instant(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday-ish", "15 parsecs", "", "x" * 200, "2026-13-45"])
def test_rejected_with_a_sentence(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_instant(text, now=NOW)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1w") == timedelta(days=7)
    with pytest.raises(InvalidInput, match="longer than a year"):
        parse_duration("400d")
