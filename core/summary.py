"""What an incident's alert says, as a typed record: written by the watcher, grown by each
related statement, read by the alert, the status and the report. Stored as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.history import ChangeEvent
from core.impact import Impact
from core.judge import Verdict


class ImpactLine(BaseModel):
    """Rows another table lost or kept pointing at gone keys, through one FK rule or trigger."""

    model_config = ConfigDict(frozen=True)

    table: str
    via: str
    cascaded: int = 0
    changed: int = 0
    dangling: int = 0
    versioned: bool = True

    @classmethod
    def of(cls, impact: Impact) -> ImpactLine:
        return cls(
            table=impact.table,
            via=impact.via,
            cascaded=impact.cascaded,
            changed=impact.changed,
            dangling=impact.dangling,
            versioned=impact.versioned,
        )


class SampleRows(BaseModel):
    model_config = ConfigDict(frozen=True)

    columns: list[str] = []
    rows: list[list[Any]] = []
    more: int = 0


class IncidentSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    table: str
    deleted: int
    updated: int
    statements: int
    rows_before: int
    share: float
    score: int
    reason: str
    instant: str  # ISO, to the microsecond
    last_instant: str
    transaction_id: int | None = None
    impact: list[ImpactLine] = []
    sample: SampleRows = SampleRows()

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IncidentSummary:
        return cls.model_validate(data)

    def grown(
        self, event: ChangeEvent, primary: str, impact: list[Impact], verdict: Verdict
    ) -> IncidentSummary:
        """The running totals after one more related statement."""
        change = event.for_table(primary)
        deleted = self.deleted + (change.deleted if change else 0)
        updated = self.updated + (change.updated if change else 0)
        merged = {(i.table, i.via): i for i in self.impact}
        for i in impact:
            was = merged.get((i.table, i.via)) or ImpactLine.of(i).model_copy(
                update={"cascaded": 0, "changed": 0, "dangling": 0}
            )
            merged[(i.table, i.via)] = was.model_copy(
                update={
                    "cascaded": was.cascaded + i.cascaded,
                    "changed": was.changed + i.changed,
                    "dangling": was.dangling + i.dangling,
                }
            )
        return self.model_copy(
            update={
                "deleted": deleted,
                "updated": updated,
                "statements": self.statements + 1,
                "last_instant": iso(event.instant),
                "score": max(self.score, verdict.score),
                "share": min((deleted + updated) / max(self.rows_before, 1), 1.0),
                "impact": list(merged.values()),
            }
        )


def iso(instant: datetime) -> str:
    return instant.isoformat(timespec="microseconds")
