"""Tables people told the watcher to skip (``/vault unwatch``).

Only the exceptions are stored: a table is watched unless it has a row here.
Changing it is audited, so the change itself happens in
``StateStore.set_watched`` through ``set_watched_in``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.state.common import utcnow
from core.state.schema import unwatched


def set_watched_in(conn: Connection, source: str, table: str, watched: bool, actor: str) -> bool:
    """Watch or stop watching ``table`` inside the caller's transaction; False if it already
    was as asked."""
    if watched:
        return bool(
            conn.execute(
                unwatched.delete().where(
                    unwatched.c.source == source, unwatched.c.table_name == table
                )
            ).rowcount
        )
    try:
        with conn.begin_nested():
            conn.execute(
                unwatched.insert().values(source=source, table_name=table, actor=actor, at=utcnow())
            )
        return True
    except sa.exc.IntegrityError:
        return False


class Watched:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def unwatched(self, *, source: str) -> set[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(unwatched.c.table_name).where(unwatched.c.source == source)
            )
            return {r[0] for r in rows}
