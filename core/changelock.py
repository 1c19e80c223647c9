"""The named lock an approved schema change holds while it runs.

A change request moves to *executing* by compare-and-set; if the process running it
dies, nothing would ever move it on. The winner takes this lock on the watched server
*before* its compare-and-set and holds it until the outcome is stored, so a request
found *executing* whose lock is free was left by a dead process (the server frees a
dead connection's locks): the sweep may settle it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def lock_name(change_id: str) -> str:
    return f"flightvault_change_{change_id}"


@contextmanager
def holding(engine: Engine, change_id: str, *, wait: float = 0) -> Iterator[bool]:
    """Hold the request's lock for the block; yields False (holding nothing) when another
    connection kept it for ``wait`` seconds."""
    name = lock_name(change_id)
    with engine.connect() as conn:
        got = bool(
            conn.execute(sa.text("SELECT GET_LOCK(:n, :w)"), {"n": name, "w": wait}).scalar()
        )
        try:
            yield got
        finally:
            if got:
                conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": name})
