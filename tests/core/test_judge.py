"""The judgement is pure arithmetic: checked with plain numbers."""

from __future__ import annotations

from core.judge import Rules, anomaly_score, baseline, judge, share_of


def test_baseline_is_robust_to_one_outlier() -> None:
    base = baseline([3, 4, 5, 4, 3, 5000])
    assert base.median == 4.0 and base.spread < 3 and base.samples == 6


def test_routine_size_for_a_busy_table_scores_low() -> None:
    busy = baseline([10_000, 9_800, 10_300, 10_100, 9_900])
    assert anomaly_score(10_050, 0.001, busy) < 20
    verdict = judge(10_050, 0.001, busy, Rules())
    assert not verdict.incident and verdict.reason == "a routine size for this table"


def test_unusual_size_scores_high_even_for_a_small_share() -> None:
    quiet = baseline([1, 2, 1, 1, 3, 2])
    assert anomaly_score(500, 0.002, quiet) >= 90
    verdict = judge(500, 0.002, quiet, Rules())
    assert verdict.incident and "unusual" in verdict.reason


def test_share_alone_triggers_and_min_rows_guards_small_tables() -> None:
    cold = baseline([])
    assert judge(60, share_of(60, 1_000), cold, Rules()).incident
    tiny = judge(3, share_of(3, 10), cold, Rules())
    assert not tiny.incident and "below 50" in tiny.reason
    assert share_of(5, 0) == 1.0 and share_of(0, 0) == 0.0
