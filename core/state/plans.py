"""Restore plans, the findings they are planned from, and time-travel views.

A plan record changes only by compare-and-set on its version
(``replace_plan_in``): two people clicking at once cannot both move it.
Changes that carry audit lines are units of work on ``StateStore``
(``replace_plan``, ``update_plan``, ``save_finding``); this module gives
them their pieces and answers every read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.approvals import PlanRecord
from core.history import ChangeEvent, event_from_json, event_to_json
from core.plan import RestorePlan
from core.state.approvable import compare_and_set, request_fields, request_values, update_with
from core.state.common import new_id, utcnow
from core.state.schema import findings, plans, views


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """What ``/vault find`` named: the restore point and the damage a preview undoes."""

    id: str
    source: str
    table: str
    restore_point: datetime
    damage: tuple[ChangeEvent, ...]
    incident_id: str | None


def _plan_values(rec: PlanRecord) -> dict[str, Any]:
    return {
        **request_values(rec),
        "incident_id": rec.incident_id,
        "plan": rec.plan.to_json(),
        "fingerprint": rec.plan.fingerprint,
        "undo_of": rec.undo_of,
    }


def _plan_record(row: sa.Row[Any]) -> PlanRecord:
    m = row._mapping
    return PlanRecord(
        **request_fields(m),
        incident_id=m["incident_id"],
        plan=RestorePlan.from_json(m["plan"]),
        undo_of=m["undo_of"],
    )


def replace_plan_in(conn: Connection, old: PlanRecord, new: PlanRecord) -> bool:
    """Compare-and-set inside the caller's transaction: store ``new`` only if the record
    is still at ``old.version``."""
    values = {**_plan_values(new), "version": old.version + 1}
    return compare_and_set(conn, plans, id=old.id, version=old.version, values=values)


def save_finding_in(
    conn: Connection,
    *,
    source: str,
    table: str,
    restore_point: datetime,
    damage: Sequence[ChangeEvent],
    incident_id: str | None,
) -> str:
    finding_id = new_id()
    conn.execute(
        findings.insert().values(
            id=finding_id,
            source=source,
            table_name=table,
            restore_point=restore_point,
            damage=[event_to_json(e) for e in damage],
            incident_id=incident_id,
            created_at=utcnow(),
        )
    )
    return finding_id


class Plans:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ plans
    def save(self, rec: PlanRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(plans.insert().values(**_plan_values(rec), created_at=rec.created_at))

    def get(self, plan_id: str) -> PlanRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(plans).where(plans.c.id == plan_id)).first()
            return _plan_record(row) if row else None

    def replace(self, old: PlanRecord, new: PlanRecord) -> bool:
        """Compare-and-set on the version, with no audit line (see ``StateStore.replace_plan``)."""
        with self.engine.begin() as conn:
            return replace_plan_in(conn, old, new)

    def update(self, plan_id: str, change: Callable[[PlanRecord], PlanRecord]) -> PlanRecord | None:
        """Apply ``change`` to the newest record, re-reading after a lost compare-and-set.

        For the bot's own bookkeeping (the preview's message): another writer moving the
        version on must not make it drop its write. Returns the stored record, or None if
        the plan is gone or stayed contended.
        """
        return update_with(self.get, self.replace, plan_id, change)

    def for_incident(self, incident_id: str) -> list[PlanRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(plans)
                .where(plans.c.incident_id == incident_id)
                .order_by(plans.c.created_at)
            )
            return [_plan_record(r) for r in rows]

    def undos_of(self, plan_id: str) -> list[PlanRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(plans).where(plans.c.undo_of == plan_id))
            return [_plan_record(r) for r in rows]

    def pending(self, *, source: str) -> list[PlanRecord]:
        """Previewed or requested plans not yet expired."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(plans)
                .where(plans.c.source == source)
                .where(plans.c.state.in_(["previewed", "requested"]))
                .where(plans.c.expires_at > utcnow())
            )
            return [_plan_record(r) for r in rows]

    def executing(self, *, source: str) -> list[PlanRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(plans).where(plans.c.source == source, plans.c.state == "executing")
            )
            return [_plan_record(r) for r in rows]

    # ------------------------------------------------------------------ findings
    def finding(self, finding_id: str) -> FindingRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(findings).where(findings.c.id == finding_id)).first()
        if row is None:
            return None
        return FindingRecord(
            id=row.id,
            source=row.source,
            table=row.table_name,
            restore_point=row.restore_point,
            damage=tuple(event_from_json(e) for e in row.damage),
            incident_id=row.incident_id,
        )

    # ------------------------------------------------------------------ time-travel views
    def save_view(self, *, source: str, table: str, instant: datetime) -> str:
        """Remember what a time-travel message shows; its buttons carry only this ID."""
        view_id = new_id()
        with self.engine.begin() as conn:
            conn.execute(
                views.insert().values(
                    id=view_id,
                    source=source,
                    table_name=table,
                    instant=instant,
                    created_at=utcnow(),
                )
            )
        return view_id

    def view_source(self, view_id: str) -> str | None:
        """The schema (``source``) a time-travel view was taken in."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(views.c.source).where(views.c.id == view_id)
            ).scalar_one_or_none()

    def view(self, view_id: str) -> tuple[str, datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(views.c.table_name, views.c.instant).where(views.c.id == view_id)
            ).first()
            return (row[0], row[1]) if row else None
