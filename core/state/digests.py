"""Digest messages: one Slack message per kind of standing condition, updated in place.

A condition that holds for a thousand tables at once is one message listing them, not a
thousand. This remembers where each kind's digest was posted (channel and ts) so delivery
edits it as tables join or leave, and forgets it once it says "all clear", so the next
occurrence is news again (a fresh message that notifies) rather than a silent edit. It also
remembers which conditions the digest last listed: Slack does not notify on an edit, so
delivery announces the ones that joined since in a reply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.state.common import utcnow
from core.state.schema import digests

Listed = frozenset[tuple[str, str]]  # (schema prefix, condition key)


@dataclass(frozen=True, slots=True)
class Posted:
    channel: str
    ts: str
    listed: Listed | None = None  # None: not recorded (a store from before listing)


class Digests:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def posted(self, *, source: str, kind: str) -> Posted | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(digests.c.channel, digests.c.ts, digests.c.listed).where(
                    digests.c.source == source, digests.c.kind == kind
                )
            ).first()
        if row is None:
            return None
        listed = None if row.listed is None else frozenset((p, k) for p, k in row.listed)
        return Posted(row.channel, row.ts, listed)

    def remember(
        self,
        *,
        source: str,
        kind: str,
        channel: str,
        ts: str,
        listed: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Where the digest now lives and what it lists (delivery holds the lane, so one
        writer at a time)."""
        with self.engine.begin() as conn:
            conn.execute(digests.delete().where(digests.c.source == source, digests.c.kind == kind))
            conn.execute(
                digests.insert().values(
                    source=source,
                    kind=kind,
                    channel=channel,
                    ts=ts,
                    updated_at=utcnow(),
                    listed=[list(pair) for pair in sorted(listed)],
                )
            )

    def forget(self, *, source: str, kind: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(digests.delete().where(digests.c.source == source, digests.c.kind == kind))
