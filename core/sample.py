"""Which columns identify a row to a person, and a compact sample of rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.catalogue import TableInfo

_NAME_LIKE = re.compile(
    r"(^|_)(name|title|label|code|email|city|sku|slug|username|iata|icao)($|_)", re.I
)
MAX_ID_COLUMNS = 4
MAX_VALUE = 40


@dataclass(frozen=True, slots=True)
class Sample:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    more: int  # rows not shown


def identifying_columns(table: TableInfo, limit: int = MAX_ID_COLUMNS) -> tuple[str, ...]:
    """Primary key, then unique keys, then name-like columns; at most ``limit``."""
    ordered: list[str] = list(table.key)
    for key in table.unique_keys:
        ordered += [c for c in key if c not in ordered]
    ordered += [c for c in table.data_columns if _NAME_LIKE.search(c) and c not in ordered]
    if len(ordered) < 2:
        ordered += [c for c in table.data_columns if c not in ordered][: 2 - len(ordered)]
    return tuple(ordered[:limit])


def shorten(value: Any, width: int = MAX_VALUE) -> str:
    text = "NULL" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def make_sample(
    table: TableInfo, rows: list[dict[str, Any]], total: int, columns: tuple[str, ...] | None = None
) -> Sample:
    cols = columns or identifying_columns(table)
    shown = tuple(tuple(shorten(r.get(c)) for c in cols) for r in rows)
    return Sample(cols, shown, max(total - len(shown), 0))
