"""Standing conditions (history health): remembered so each one alerts once, not per poll."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.state.common import Notification, enqueue_in, utcnow
from core.state.schema import conditions


class Conditions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def active(self, *, source: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(conditions.c.key, conditions.c.detail).where(
                    conditions.c.source == source, conditions.c.active.is_(True)
                )
            )
            return {r.key: r.detail for r in rows}

    def known(self, *, source: str, prefix: str) -> set[str]:
        """Keys ever recorded under ``prefix``, active or not."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(conditions.c.key).where(
                    conditions.c.source == source, conditions.c.key.startswith(prefix)
                )
            )
            return {r.key for r in rows}

    def settle(
        self, *, source: str, key: str, active: bool, detail: str, note: Notification | None
    ) -> bool:
        """Record the condition's state; queue ``note`` only when it changed (compare-and-set,
        so two processes checking at once alert once). True if it changed."""
        now = utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(conditions.c.active).where(
                    conditions.c.source == source, conditions.c.key == key
                )
            ).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            conditions.insert().values(
                                source=source,
                                key=key,
                                active=active,
                                detail=detail[:500],
                                since=now,
                            )
                        )
                except sa.exc.IntegrityError:
                    return False
                changed = active  # a condition first seen healthy is not news
            else:
                changed = bool(
                    row.active != active
                    and conn.execute(
                        conditions.update()
                        .where(
                            conditions.c.source == source,
                            conditions.c.key == key,
                            conditions.c.active.is_(not active),
                        )
                        .values(active=active, detail=detail[:500], since=now)
                    ).rowcount
                )
            if changed and note is not None:
                enqueue_in(conn, None, note)
            return changed
