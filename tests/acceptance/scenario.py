"""A disaster as a user lives it: a schema, a damaging statement, business going on after.

``play`` builds the schema, snapshots it, runs the disaster in one
transaction, snapshots again, runs the later legitimate writes (each its own
transaction) and snapshots a third time; the expected state after a perfect
restore follows from those three (``tests.support.oracle``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from tests.support.oracle import Snapshot, expected_after, snapshot
from tests.support.sql import run_sql


def versioned(columns: str, *, indexed: bool = True, extra: str = "") -> str:
    """A column list with explicit, invisible period columns (indexed on row_end)."""
    index = ", INDEX (row_end)" if indexed else ""
    return (
        f"{columns}, row_start TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,"
        " row_end TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,"
        f" PERIOD FOR SYSTEM_TIME (row_start, row_end){index}{extra}"
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    setup: tuple[str, ...]
    disaster: tuple[str, ...]
    table: str  # what the on-call engineer asks `/vault find` about
    later: tuple[str, ...] = ()
    refused: str | None = None  # the preview must refuse, saying this

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Played:
    before: Snapshot
    damaged: Snapshot
    later: Snapshot

    @property
    def expected(self) -> Snapshot:
        return expected_after(self.before, self.damaged, self.later)


def play(engine: Engine, scenario: Scenario) -> Played:
    run_sql(engine, *scenario.setup)
    before = snapshot(engine)
    run_sql(engine, *scenario.disaster)
    damaged = snapshot(engine)
    for statement in scenario.later:
        run_sql(engine, statement)
    return Played(before, damaged, snapshot(engine))
