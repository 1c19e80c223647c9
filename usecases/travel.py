"""Time travel: ``/vault at <table> <time>`` and the buttons that step through events."""

from __future__ import annotations

from datetime import datetime

from core.catalogue import load_catalogue
from core.errors import InvalidInput
from core.timetravel import travel
from usecases.context import Context
from usecases.port import Port, Posted, Thread
from usecases.render.timetravel import timetravel_message


def travel_to(ctx: Context, out: Port, table: str, instant: datetime, *, thread: Thread) -> None:
    """The table as it was at ``instant``, with buttons to the neighbouring events."""
    with ctx.engine.connect() as conn:
        view = travel(conn, load_catalogue(conn), table, instant)
    view_id = ctx.store.plans.save_view(source=ctx.source, table=table, instant=view.instant)
    out.finish(thread, None, timetravel_message(view, view_id))


def step(ctx: Context, out: Port, view_id: str, shown: Posted, *, forward: bool) -> None:
    """One change event further, in place of the view ``shown``."""
    saved = ctx.store.plans.view(view_id)
    if saved is None:
        raise InvalidInput("That time-travel view has expired; run `/vault at` again.")
    table, instant = saved
    ctx = ctx.for_source(ctx.store.plans.view_source(view_id) or ctx.source)
    with ctx.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        here = travel(conn, catalogue, table, instant)
        target = here.next if forward else here.previous
        if target is None:
            raise InvalidInput("There is no change event further that way in the history.")
        view = travel(conn, catalogue, table, target)
    new_id = ctx.store.plans.save_view(source=ctx.source, table=table, instant=view.instant)
    out.update(shown, timetravel_message(view, new_id))
