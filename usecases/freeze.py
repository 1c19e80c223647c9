"""Freeze and two-person unfreeze: the side effects, in order (record, DDL, audit, messages).

Refusals raise ``VaultError`` subclasses; the handlers turn them into one
private sentence. The freeze record is written before the DDL (so a second
freeze of the same target is refused at once) and removed if the DDL fails.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa

from core import freeze as rules
from core.catalogue import load_catalogue
from core.errors import VaultError
from core.state.common import Notification, new_id
from core.state.freezes import SERVER, Freeze, FreezeState
from core.timeutil import fmt_instant
from usecases.context import Authorised, Context
from usecases.port import Port, Posted, Thread
from usecases.render.freeze import frozen_message, unfreeze_message

SERVER_WORDS = {"database", "server"}


def _target(deps: Context, word: str | None) -> str | None:
    """The table as the catalogue spells it, or None for the whole server."""
    if word is None or word.lower() in SERVER_WORDS:
        return None
    return deps.catalogue(max_age=0).get(word).name


def target(deps: Context, word: str) -> tuple[Context, str]:
    """The schema ``word`` names a table in (``schema.table`` or a bare name) and the table;
    the whole server (``database``) stays with the default schema."""
    if word.lower() in SERVER_WORDS:
        return deps, word
    return deps.resolve(word, versioned=False, max_age=0)


def _ddl_failed(exc: sa.exc.DBAPIError) -> VaultError:
    reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
    return rules.FreezeRefused(f"The database refused ({reason}). Nothing changed.")


def freeze(
    deps: Context,
    out: Port,
    word: str | None,
    user: str,
    thread: Thread,
    incident_id: str | None,
) -> Freeze:
    table = _target(deps, word)
    record = Freeze(
        id=new_id(),
        source=deps.source,
        scope=SERVER if table is None else "table",
        table=table,
        state=FreezeState.FROZEN,
        frozen_by=user,
        frozen_at=datetime.now(UTC),
        incident_id=incident_id,
        channel=thread.channel,
        thread_ts=thread.ts,
    )
    if deps.store.freezes.create(record) is None:
        held = deps.store.freezes.find(source=deps.source, table=table)
        since = f" since {fmt_instant(held.frozen_at)} by {held.frozen_by}" if held else ""
        raise rules.FreezeRefused(
            f"{record.target} is already frozen{since}. Nothing changed.",
            people=(held.frozen_by,) if held else (),
        )
    try:
        with deps.engine.begin() as conn:
            if table is None:
                rules.freeze_server(conn)
            else:
                catalogue = load_catalogue(conn)
                rules.freeze_table(conn, catalogue.schema, catalogue.get(table))
    except VaultError:
        deps.store.freezes.forget(record)
        raise
    except sa.exc.DBAPIError as exc:
        deps.store.freezes.forget(record)
        raise _ddl_failed(exc) from exc
    deps.store.audit.record(
        actor=user, action="freeze", incident_id=incident_id, detail=f"froze {record.target}"
    )
    out.post(thread, frozen_message(record))
    _update_roots(deps, out, record)
    return record


def request_unfreeze(
    deps: Context,
    out: Port,
    word: str | None,
    user: str,
    channel: str,
    *,
    authorised: Authorised,
) -> Freeze:
    table = _target(deps, word)
    current = deps.store.freezes.find(source=deps.source, table=table)
    if current is None:
        shown = f"`{table}`" if table else "The server"
        raise rules.FreezeRefused(f"{shown} is not frozen by FlightVault; nothing to unfreeze.")
    asked = rules.request_unfreeze(current, user, authorised=authorised())
    if not deps.store.freezes.replace(current, asked):
        raise rules.FreezeRefused(
            "Someone else acted on this freeze at the same moment; try again."
        )
    deps.store.audit.record(
        actor=user,
        action="unfreeze request",
        incident_id=current.incident_id,
        detail=f"asked to unfreeze {current.target}",
    )
    out.post(Thread(current.channel or channel, current.thread_ts), unfreeze_message(asked))
    return asked


def decide_unfreeze(
    deps: Context,
    out: Port,
    action: str,
    freeze_id: str,
    user: str,
    message: Posted,
    *,
    authorised: Authorised,
) -> None:
    """``approve`` or ``cancel`` from the unfreeze request's buttons; ``message`` is that
    request (channel, ts), updated in place so no dead button stays clickable."""
    current = deps.store.freezes.get(freeze_id[:32])
    if current is None:
        raise rules.FreezeRefused("That freeze is not known here; `/vault status` lists freezes.")
    deps = deps.for_source(current.source)
    if action == "approve":
        after = rules.approve_unfreeze(
            current, user, authorised=authorised(), required=deps.settings.vault_required_approvals
        )
    else:
        after = rules.cancel_unfreeze(current, user, authorised=authorised())
    if not deps.store.freezes.replace(current, after):
        raise rules.FreezeRefused(
            "Someone else acted on this freeze at the same moment; look again."
        )
    stored = replace(after, version=current.version + 1)
    if stored.state is FreezeState.LIFTED:
        try:
            _lift(deps, stored)
        except VaultError:
            deps.store.freezes.replace(stored, replace(current, version=stored.version))
            raise
    deps.store.audit.record(
        actor=user,
        action="unfreeze" if stored.state is FreezeState.LIFTED else f"unfreeze {action}",
        incident_id=current.incident_id,
        detail=f"{stored.target}: {stored.state.value}",
    )
    out.update(message, unfreeze_message(stored))
    if stored.state is FreezeState.LIFTED:
        _update_roots(deps, out, stored)


def _lift(deps: Context, f: Freeze) -> None:
    try:
        with deps.engine.begin() as conn:
            if f.table is None:
                rules.unfreeze_server(conn)
            else:
                rules.unfreeze_table(conn, f.table)
    except sa.exc.DBAPIError as exc:
        raise _ddl_failed(exc) from exc


def _update_roots(deps: Context, out: Port, f: Freeze) -> None:
    """Every alert the freeze covers shows it, and stops showing it once lifted (including
    alerts of incidents restored while frozen)."""
    queued = 0
    for incident in deps.store.incidents.shown_since(source=deps.source, since=f.frozen_at):
        if f.covers(incident.table):
            deps.store.outbox.enqueue(
                incident_id=incident.id, notification=Notification("root_update")
            )
            queued += 1
    if queued:
        out.flush()
