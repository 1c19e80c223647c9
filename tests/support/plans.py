"""Plans for core tests: undo the statements that ran since an instant."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from core.catalogue import load_catalogue
from core.history import list_events
from core.plan import RestorePlan, build_plan
from core.timeutil import ONE_MICROSECOND


def plan_since(
    engine: Engine,
    since: object,
    table: str,
    damage: int | None = None,
    tables: list[str] | None = None,
) -> RestorePlan:
    """The plan undoing the first ``damage`` statements (all by default) since ``since``,
    restoring to 1 µs before the first of them."""
    with engine.connect() as conn:
        catalogue = load_catalogue(conn)
        found = list_events(conn, catalogue, since=since, tables=tables)  # type: ignore[arg-type]
        events = found[:damage] if damage is not None else found
        return build_plan(
            conn,
            catalogue,
            table=table,
            events=events,
            restore_point=events[0].instant - ONE_MICROSECOND,
        )
