"""The restore-point timeline as a PNG, drawn without a display (matplotlib's Agg canvas)."""

from __future__ import annotations

import io
from datetime import datetime


def timeline_png(
    table: str,
    points: list[tuple[datetime, int]],
    damage: datetime,
    restore_point: datetime,
) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.2), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    times = [date2num(t.replace(tzinfo=None)) for t, _ in points]
    counts = [c for _, c in points]
    axes.step(times, counts, where="post", color="#1d3557", linewidth=1.8, label="rows")
    axes.axvline(
        date2num(damage.replace(tzinfo=None)),
        color="#e63946",
        linewidth=1.5,
        label="damaging statement",
    )
    axes.axvline(
        date2num(restore_point.replace(tzinfo=None)),
        color="#2a9d8f",
        linestyle="--",
        linewidth=1.2,
        label="restore point",
    )
    axes.set_title(f"{table}: rows over time (UTC)", fontsize=10)
    axes.xaxis.set_major_formatter(DateFormatter("%H:%M:%S"))
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
