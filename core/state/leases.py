"""Leases: which bot process leads (runs the watcher, the outbox, the jobs) until when.

A lease is taken or renewed by compare-and-set and created under a unique
name, so two processes racing for it cannot both hold it.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.state.common import utcnow
from core.state.schema import leases


class Leases:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def try_take(self, *, name: str, holder: str, ttl: float) -> bool:
        """Take or renew a lease; True if ``holder`` holds it until now + ttl."""
        now = utcnow()
        until = now + timedelta(seconds=ttl)
        with self.engine.begin() as conn:
            won = conn.execute(
                leases.update()
                .where(leases.c.name == name)
                .where(sa.or_(leases.c.holder == holder, leases.c.expires_at < now))
                .values(holder=holder, expires_at=until)
            ).rowcount
            if won:
                return True
            try:
                with conn.begin_nested():
                    conn.execute(leases.insert().values(name=name, holder=holder, expires_at=until))
                return True
            except sa.exc.IntegrityError:
                return False

    def release(self, *, name: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))
