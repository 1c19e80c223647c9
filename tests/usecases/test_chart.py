"""The finder's timeline chart reads at a glance for 1 row and for 1,000,000: whole row
counts with thousands separators, no offset or scientific notation, and the damage and
the restore point marked with their UTC times. Checked on the tick labels matplotlib
produced, not on the PNG's pixels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from matplotlib.axes import Axes

from usecases.render.chart import (
    DAMAGE_COLOUR,
    RESTORE_COLOUR,
    timeline_figure,
    timeline_png,
)

DAMAGE = datetime(2026, 11, 22, 19, 1, 17, 653400, tzinfo=UTC)
RESTORE_POINT = DAMAGE - timedelta(microseconds=1)
SINCE, NOW = DAMAGE - timedelta(minutes=10), DAMAGE + timedelta(minutes=3)
WHOLE_ROWS = re.compile(r"^\d{1,3}(,\d{3})*$")

SERIES = {
    "one row deleted": [(SINCE, 1), (DAMAGE, 0), (NOW, 0)],
    "two of a million deleted": [
        (SINCE, 1_000_000),
        (DAMAGE - timedelta(minutes=4), 1_000_003),
        (DAMAGE, 999_998),
        (NOW, 999_998),
    ],
    "a million, nearly all deleted": [(SINCE, 1_000_000), (DAMAGE, 20_000), (NOW, 20_100)],
    "flat at one row": [(SINCE, 1), (DAMAGE, 1), (NOW, 1)],
    "flat at a million": [(SINCE, 1_000_000), (DAMAGE, 1_000_000), (NOW, 1_000_000)],
}


def drawn(points: list[tuple[datetime, int]]) -> Axes:
    """Build the figure and draw it, so the tick labels are the ones a PNG would show."""
    figure = timeline_figure("airports", points, DAMAGE, RESTORE_POINT)
    figure.canvas.draw()
    (axes,) = figure.axes
    return axes


def y_labels(axes: Axes) -> list[str]:
    """The y tick labels inside the visible range (matplotlib also keeps ticks just outside)."""
    low, high = axes.get_ylim()
    return [
        label.get_text()
        for tick, label in zip(axes.get_yticks(), axes.get_yticklabels(), strict=True)
        if low <= tick <= high
    ]


@pytest.mark.parametrize("points", SERIES.values(), ids=SERIES.keys())
def test_y_axis_shows_whole_row_counts_with_separators(points: list[tuple[datetime, int]]) -> None:
    axes = drawn(points)
    labels = y_labels(axes)
    assert len(labels) >= 2, labels
    assert all(WHOLE_ROWS.fullmatch(text) for text in labels), labels
    assert len(set(labels)) == len(labels), labels  # no two ticks rounding to the same row count
    assert axes.yaxis.get_offset_text().get_text() == ""
    low, high = axes.get_ylim()
    counts = [c for _, c in points]
    assert (low >= 0 and low < min(counts)) or min(counts) == 0 == low
    assert high > max(counts)


def test_a_million_rows_reads_as_a_million() -> None:
    axes = drawn(SERIES["two of a million deleted"])
    labels = y_labels(axes)
    assert "1,000,000" in labels and "999,998" in labels, labels


def test_one_row_reads_as_zero_and_one() -> None:
    assert y_labels(drawn(SERIES["one row deleted"])) == ["0", "1", "2"]


@pytest.mark.parametrize("points", SERIES.values(), ids=SERIES.keys())
def test_damage_and_restore_point_are_marked_with_their_times(
    points: list[tuple[datetime, int]],
) -> None:
    axes = drawn(points)
    marks = {line.get_color(): line for line in axes.get_lines() if line.get_color() != "#1d3557"}
    damage, restore = marks[DAMAGE_COLOUR], marks[RESTORE_COLOUR]
    assert damage.get_label() == "damaging statement 2026-11-22 19:01:17.653400 UTC"
    assert restore.get_label() == "restore point 2026-11-22 19:01:17.653399 UTC"
    legend = axes.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [damage.get_label(), restore.get_label()]


def test_marker_times_are_shown_in_utc_whatever_the_instant_zone() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    figure = timeline_figure(
        "airports", SERIES["one row deleted"], DAMAGE.astimezone(ist), RESTORE_POINT
    )
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "damaging statement 2026-11-22 19:01:17.653400 UTC" in labels


def test_png_renders_for_both_extremes() -> None:
    for name in ("one row deleted", "two of a million deleted"):
        png = timeline_png("airports", SERIES[name], DAMAGE, RESTORE_POINT)
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
