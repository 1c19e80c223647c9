"""The restore-point timeline as a PNG, drawn without a display (matplotlib's Agg canvas).

The reader is an on-call engineer glancing at a thread: the y axis shows whole row
counts with thousands separators (never ``1e6`` or an offset like ``+9.99e5``, never
``0.5`` rows), and the damage and the restore point carry their UTC times in the legend,
so the picture says *when* without anyone reading tick marks. ``timeline_figure`` builds
the figure (tests read its axes); ``timeline_png`` renders it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DAMAGE_COLOUR = "#e63946"
RESTORE_COLOUR = "#2a9d8f"
ZOOM_BELOW = 0.2  # a drop smaller than this share of the table gets a zoomed y axis


def row_count_label(value: float, _position: float | None = None) -> str:
    """A tick value as a whole number of rows with thousands separators (``1,000,000``)."""
    return f"{round(value):,}"


def instant_label(instant: datetime) -> str:
    """An instant as people read it in the thread: UTC, to the microsecond, zone named."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return f"{instant:%Y-%m-%d %H:%M:%S.%f} UTC"


def y_limits(counts: list[int]) -> tuple[float, float]:
    """Bounds in whole rows, never below zero, that keep the drop visible.

    From zero when the drop is a fair share of the table (the honest picture); zoomed to
    the counts when it is small, since 2 rows gone from 1,000,000 would otherwise be a
    straight line. A flat series (or a single row) gets one row of room either side so
    its line is not drawn on the frame.
    """
    low, high = min(counts), max(counts)
    if low == high:
        return max(0, low - 1), high + 1
    if (high - low) >= ZOOM_BELOW * high:
        return 0, high + max(1.0, high * 0.05)
    pad = max(1.0, (high - low) * 0.2)
    return max(0.0, low - pad), high + pad


def timeline_figure(
    table: str,
    points: list[tuple[datetime, int]],
    damage: datetime,
    restore_point: datetime,
) -> Figure:
    """The row count over the window as a step line, the damage and the restore point marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure = Figure(figsize=(8, 3.6), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    times = [date2num(_naive_utc(t)) for t, _ in points]
    counts = [c for _, c in points]
    axes.step(times, counts, where="post", color="#1d3557", linewidth=1.8)
    axes.axvline(
        date2num(_naive_utc(damage)),
        color=DAMAGE_COLOUR,
        linewidth=1.5,
        label=f"damaging statement {instant_label(damage)}",
    )
    axes.axvline(
        date2num(_naive_utc(restore_point)),
        color=RESTORE_COLOUR,
        linestyle="--",
        linewidth=1.2,
        label=f"restore point {instant_label(restore_point)}",
    )
    axes.set_ylim(*y_limits(counts))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=2))
    axes.yaxis.set_major_formatter(FuncFormatter(row_count_label))
    axes.set_ylabel("rows", fontsize=8)
    locator = AutoDateLocator(minticks=3, maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=True))
    axes.set_title(f"{table}: rows over time (UTC)", fontsize=10)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2)
    figure.tight_layout()
    return figure


def timeline_png(
    table: str,
    points: list[tuple[datetime, int]],
    damage: datetime,
    restore_point: datetime,
) -> bytes:
    """The timeline figure as PNG bytes, ready to upload into the incident's thread."""
    figure = timeline_figure(table, points, damage, restore_point)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _naive_utc(instant: datetime) -> datetime:
    """matplotlib's date numbers are zone-less: convert aware instants to UTC first."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return instant.replace(tzinfo=None)
