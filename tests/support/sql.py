"""Test set-up SQL: fixed statements written by the tests, never user input."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.history import server_now


def run_sql(engine: Engine, *statements: str) -> None:
    """Run statements in one transaction."""
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


def now(engine: Engine) -> datetime:
    with engine.connect() as conn:
        return server_now(conn)
