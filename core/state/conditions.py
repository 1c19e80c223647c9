"""Standing conditions (history health, drill failures): remembered so each one alerts once,
not per poll."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

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
                changed = row.active != active and _flip(conn, source, key, active, detail, now)
            if changed and note is not None:
                enqueue_in(conn, None, note)
            return changed

    def settle_all(
        self,
        *,
        source: str,
        findings: Iterable[tuple[str, bool, str]],
        note: Callable[[str], Notification],
        group: Callable[[str], str],
        evaluated: Collection[str] = (),
    ) -> set[str]:
        """Record many conditions (key, active, detail) in one transaction; queue one
        ``note(group)`` per group of keys in which any condition started or cleared, in the
        same transaction. Compare-and-set per key, so two processes settling at once count
        each change once. Returns the groups that changed.

        ``evaluated``: the groups this pass checked in full. An active condition of one of
        them that the findings no longer mention (its table was dropped, unwatched, filtered
        out, or its check found nothing) clears, or it would stand forever and its digest
        would never reach "all clear". Other groups (another pass's) are left alone."""
        now = utcnow()
        changed: set[str] = set()
        with self.engine.begin() as conn:
            known = {
                r.key: bool(r.active)
                for r in conn.execute(
                    sa.select(conditions.c.key, conditions.c.active).where(
                        conditions.c.source == source
                    )
                )
            }
            seen: set[str] = set()
            for key, active, detail in findings:
                seen.add(key)
                was = known.get(key)
                if was is None:
                    if _insert(conn, source, key, active, detail, now) and active:
                        changed.add(group(key))  # a condition first seen healthy is not news
                elif was != active and _flip(conn, source, key, active, detail, now):
                    changed.add(group(key))
            for key in _stale(known, seen, evaluated, group):
                if _flip(conn, source, key, False, None, now):
                    changed.add(group(key))
            for kind in sorted(changed):
                enqueue_in(conn, None, note(kind))
        return changed


def _stale(
    known: dict[str, bool],
    seen: set[str],
    evaluated: Collection[str],
    group: Callable[[str], str],
) -> list[str]:
    """Active conditions of the evaluated groups that this pass's findings left out."""
    return sorted(
        key
        for key, active in known.items()
        if active and key not in seen and group(key) in evaluated
    )


def _insert(
    conn: Connection, source: str, key: str, active: bool, detail: str, now: datetime
) -> bool:
    try:
        with conn.begin_nested():
            conn.execute(
                conditions.insert().values(
                    source=source, key=key, active=active, detail=detail[:500], since=now
                )
            )
    except sa.exc.IntegrityError:
        return False
    return True


def _flip(
    conn: Connection, source: str, key: str, active: bool, detail: str | None, now: datetime
) -> bool:
    """Turn the condition on or off (compare-and-set on its current state); a ``detail`` of
    None keeps the last one, as when a condition no check reports any more is cleared."""
    values: dict[str, object] = {"active": active, "since": now}
    if detail is not None:
        values["detail"] = detail[:500]
    return bool(
        conn.execute(
            conditions.update()
            .where(
                conditions.c.source == source,
                conditions.c.key == key,
                conditions.c.active.is_(not active),
            )
            .values(**values)
        ).rowcount
    )
