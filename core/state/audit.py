"""The audit trail: who did what to which plan or incident, in the order it happened.

Audit lines are written inside the transaction of the change they explain
(``audit_in``), so nobody ever sees a state without its line; ``Audit`` is
for lines that stand alone and for reading the trail back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.approvals import PlanRecord
from core.state.common import utcnow
from core.state.schema import audit


@dataclass(frozen=True, slots=True)
class Note:
    """An audit line written in the same transaction as the plan change it explains."""

    actor: str
    action: str
    detail: str


def audit_in(
    conn: Connection,
    *,
    actor: str,
    action: str,
    detail: str,
    plan: PlanRecord | None = None,
    incident_id: str | None = None,
    ref: str | None = None,
) -> None:
    """One line of the audit trail, inside the caller's transaction; ``ref`` names what it
    is about when that is not a restore plan (a schema change request's ID)."""
    conn.execute(
        audit.insert().values(
            plan_id=plan.id if plan else ref,
            incident_id=(plan.incident_id if plan else None) or incident_id,
            actor=actor,
            action=action,
            detail=detail[:500],
            fingerprint=plan.plan.fingerprint if plan else None,
            at=utcnow(),
        )
    )


def notes_in(conn: Connection, plan: PlanRecord, notes: tuple[Note, ...]) -> None:
    """The lines explaining a change to ``plan``, inside the caller's transaction."""
    for note in notes:
        audit_in(conn, actor=note.actor, action=note.action, detail=note.detail, plan=plan)


class Audit:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        *,
        actor: str,
        action: str,
        detail: str,
        plan: PlanRecord | None = None,
        incident_id: str | None = None,
        ref: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            audit_in(
                conn,
                actor=actor,
                action=action,
                detail=detail,
                plan=plan,
                incident_id=incident_id,
                ref=ref,
            )

    def trail(
        self, *, incident_id: str | None = None, limit: int | None = 40
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` lines (of one incident, if given), oldest first."""
        with self.engine.connect() as conn:
            stmt = sa.select(audit).order_by(audit.c.at.desc(), audit.c.id.desc()).limit(limit)
            if incident_id is not None:
                stmt = stmt.where(audit.c.incident_id == incident_id)
            return [dict(r._mapping) for r in conn.execute(stmt)][::-1]
