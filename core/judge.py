"""Is this change a disaster? Pure functions over numbers, no I/O.

The score blends two independent pieces of evidence, each mapped to 0..1:
how unusual the statement's size is for *this* table (a robust z-score of
rows per statement against its own recent past, so a table that routinely
purges 10,000 rows is not an emergency when it does so again), and how much
of the table it removed. They combine like probabilities: either can raise
the alarm, both together raise it more.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_TO_SIGMA = 1.4826  # scales the median absolute deviation to a normal sigma


@dataclass(frozen=True, slots=True)
class Rules:
    """Thresholds: an incident needs ``min_rows`` AND (``min_share`` OR ``min_score``)."""

    min_rows: int = 50
    min_share: float = 0.01
    min_score: int = 60
    group_window_s: float = 120.0  # batched cleanups closer than this form one incident


@dataclass(frozen=True, slots=True)
class Baseline:
    median: float
    spread: float  # robust sigma, never below 1 row
    samples: int


@dataclass(frozen=True, slots=True)
class Verdict:
    rows: int
    share: float
    score: int
    incident: bool
    reason: str


def baseline(sizes: Sequence[int]) -> Baseline:
    """Rows-per-statement baseline from a table's recent events."""
    if not sizes:
        return Baseline(0.0, 1.0, 0)
    mid = statistics.median(sizes)
    mad = statistics.median(abs(s - mid) for s in sizes)
    return Baseline(float(mid), max(MAD_TO_SIGMA * mad, 1.0), len(sizes))


def anomaly_score(rows: int, share: float, base: Baseline) -> int:
    """0..100: 50 at a z-score of ~2.8 alone, or at 5 % of the table alone."""
    z = max(rows - base.median, 0.0) / base.spread
    unusual = 1.0 - math.exp(-z / 4.0)
    big = min(max(share, 0.0) / 0.10, 1.0) ** 0.5 if share > 0 else 0.0
    return round(100 * (1.0 - (1.0 - unusual) * (1.0 - big)))


def share_of(rows: int, table_rows_before: int) -> float:
    if table_rows_before <= 0:
        return 1.0 if rows else 0.0
    return min(rows / table_rows_before, 1.0)


def judge(rows: int, share: float, base: Baseline, rules: Rules) -> Verdict:
    """``rows`` deleted, changed or orphaned by a statement (or a burst); ``share`` of its table."""
    score = anomaly_score(rows, share, base)
    if rows < rules.min_rows:
        return Verdict(rows, share, score, False, f"{rows} rows is below {rules.min_rows}")
    if share >= rules.min_share:
        return Verdict(rows, share, score, True, f"{share:.1%} of the table")
    if score >= rules.min_score:
        return Verdict(rows, share, score, True, f"unusual for this table (score {score})")
    return Verdict(rows, share, score, False, "a routine size for this table")
