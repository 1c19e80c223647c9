"""Row changes as a CSV file for Slack: people open it in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.history import RowChange
from usecases.port import Upload

MAX_ROWS = 100_000


def write_row_changes(folder: str, table: str, changes: Iterable[RowChange]) -> Upload:
    """Write ``changes`` to ``folder/table.csv``, to be uploaded from there."""
    path = Path(folder) / f"{table}.csv"
    written = 0
    truncated = False
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer: Any = None
        for change in changes:
            if written >= MAX_ROWS:
                truncated = True
                break
            image = change.before or change.after or {}
            if writer is None:
                writer = csv.writer(handle)
                writer.writerow(["change", *image.keys()])
            writer.writerow([change.kind.value, *image.values()])
            written += 1
    title = f"{table}: {written:,} rows" + (f" (first {MAX_ROWS:,})" if truncated else "")
    return Upload(path.name, title, path=str(path))
