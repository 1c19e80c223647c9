"""The finder's answer says plainly when the data-loss window could not count inserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.finder import Finding, LossWindow
from core.history import ChangeEvent, TableChange
from core.timeutil import ONE_MICROSECOND
from usecases.render.finder import finder_text

DAMAGE = datetime(2025, 3, 1, 2, 0, 0, 123456, tzinfo=UTC)


def finding(loss: LossWindow) -> Finding:
    event = ChangeEvent(DAMAGE, None, (TableChange("orders", deleted=20_000),))
    return Finding(
        table="orders",
        restore_point=DAMAGE - ONE_MICROSECOND,
        damage=(event,),
        method="statement size",
        confidence="exact",
        why="one statement changed 20,000 rows",
        rows_before=1_000_000,
        rows_now=980_000,
        counts_exact=loss.inserts_counted,
        loss=loss,
        window=(DAMAGE - timedelta(hours=24), DAMAGE + timedelta(hours=1)),
    )


def loss_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Data-loss window:"))


def test_counted_inserts_are_listed() -> None:
    loss = LossWindow(3, inserted=4, updated=2, deleted=1, last=DAMAGE + timedelta(minutes=5))
    line = loss_line(finder_text(finding(loss), plain=True))
    assert "undo 3 later statements (4 rows inserted, 2 rows updated, 1 row deleted" in line
    assert "not counted" not in line


def test_uncounted_inserts_are_not_shown_as_zero() -> None:
    loss = LossWindow(
        2, updated=2, deleted=1, last=DAMAGE + timedelta(minutes=5), inserts_counted=False
    )
    line = loss_line(finder_text(finding(loss), plain=True))
    assert "undo 2 later statements that updated or deleted rows (2 rows updated" in line
    assert "every row inserted since: those are not counted" in line
    assert "row_start has no index" in line and "inserted," not in line


def test_no_later_update_or_delete_still_mentions_uncounted_inserts() -> None:
    line = loss_line(finder_text(finding(LossWindow(inserts_counted=False)), plain=True))
    assert "no row was updated or deleted after the damage" in line
    assert "rows inserted since are not counted" in line
    assert "no later work is at stake" not in line
