"""``/vault protect <table>`` and ``flightvault protect``: preview the ALTER that makes a table
system-versioned, with its size and lock-time estimate; run it after a second approval."""

from __future__ import annotations

from core.catalogue import load_catalogue
from core.protect import ProtectPlan, execute_protect, plan_protect, unversioned
from core.state.changes import ChangeRecord
from usecases.change_request import Done, new_request, post_request
from usecases.context import Context
from usecases.port import Port, Thread
from usecases.render.change import duration, megabytes

KIND = "protect"


def plan(ctx: Context, word: str) -> tuple[Context, ProtectPlan]:
    """The view of the schema ``word`` names a table in (``schema.table`` or a bare name) and
    the preview, or the refusal saying why the table cannot be protected. Unversioned
    tables resolve too (``versioned=False``): they are what protecting is for."""
    view, table = ctx.resolve(word, versioned=False, max_age=0)
    with view.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        preview = plan_protect(conn, catalogue, table, rate=ctx.settings.vault_protect_copy_rate)
    return view, preview


def request(ctx: Context, out: Port, word: str, user: str, thread: Thread) -> ChangeRecord:
    """Preview and post the request; it records the schema's ``source``, so the approval
    runs the ALTER there."""
    view, preview = plan(ctx, word)
    rec = new_request(
        view, kind=KIND, table=preview.table, spec=preview.to_json(), user=user, thread=thread
    )
    detail = (
        f"protect {view.label(preview.table)}: ~{preview.size.rows:,} rows, "
        f"{megabytes(preview.size.total)}, estimated {duration(preview.seconds)}"
    )
    return post_request(view, out, rec, detail)


def execute(ctx: Context, rec: ChangeRecord) -> Done:
    """Run the approved ALTER; ``ctx`` is the view of the request's schema."""
    outcome = execute_protect(ctx.engine, ProtectPlan.from_json(rec.spec))
    ctx.catalogue(max_age=0)  # the answers before the ack see the new versioned table at once
    plan = ProtectPlan.from_json(rec.spec)
    index = f"with {plan.end} indexed" if outcome.end_indexed else f"({plan.end} NOT indexed)"
    return Done(
        f"{ctx.label(rec.table)} is now system-versioned {index}, in {duration(outcome.seconds)}; "
        "FlightVault watches it from now on.",
        {"seconds": outcome.seconds, "end_indexed": outcome.end_indexed},
    )


def interrupted(ctx: Context, rec: ChangeRecord) -> tuple[Done, bool]:
    """The process running the ALTER died: the catalogue says whether it completed (an
    interrupted ALTER ... ALGORITHM=COPY leaves the table as it was)."""
    with ctx.engine.connect() as conn:
        info = load_catalogue(conn).tables.get(rec.table)
    if info is not None and info.period is not None:
        return Done(
            f"The process running this change stopped, but {ctx.label(rec.table)} is "
            "system-versioned: the ALTER completed. FlightVault watches it from now on.",
            {},
        ), True
    return Done(
        f"The process running this change stopped before the ALTER finished; "
        f"{ctx.label(rec.table)} is not versioned. Ask again with `/vault protect`.",
        {},
    ), False


def unversioned_report(ctx: Context) -> list[tuple[str, str]]:
    """(table, statements or why not) for every table not yet versioned, in every watched
    schema (``schema.table`` when there are several)."""
    out = []
    for view in ctx.views():
        with view.engine.connect() as conn:
            out += [(view.label(t.name), s) for t, s in unversioned(conn, load_catalogue(conn))]
    return out
