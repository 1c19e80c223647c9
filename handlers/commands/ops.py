"""``/vault status``, ``/vault dismiss``, ``/vault watch`` and ``/vault unwatch``."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from core.catalogue import load_catalogue
from core.errors import VaultError
from core.finder import first_version
from core.state.store import IncidentStatus
from handlers.reporting import run_reported
from usecases.context import Context
from usecases.render.status import status_message


def status(*, ack: Ack, deps: Context, respond: Respond, **_: Any) -> None:
    ack(response_type="ephemeral", text="Gathering FlightVault's status…")
    deps.workers.submit(
        run_reported, respond, "reporting status", _status, deps, respond, replace=True
    )


def _status(deps: Context, respond: Respond) -> None:
    skipped = deps.store.unwatched_tables(source=deps.source)
    with deps.engine.connect() as conn:
        catalogue = load_catalogue(conn)
        tables = [
            (t.name, first_version(conn, t), t.name not in skipped) for t in catalogue.watched()
        ]
    message = status_message(
        tables,
        deps.store.open_incidents(source=deps.source),
        deps.store.pending_plans(source=deps.source),
        deps.store.last_read(source=deps.source),
        deps.store.freezes.active(source=deps.source),
        deps.store.conditions.active(source=deps.source),
    )
    respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())


def dismiss(
    *,
    ack: Ack,
    deps: Context,
    args: list[str],
    command: dict[str, Any],
    client: WebClient,
    **_: Any,
) -> None:
    user = command["user_id"]
    incident = deps.store.incident_by_prefix(args[0][:32]) if args else None
    if incident is None:
        ack(
            response_type="ephemeral",
            text="Name an open incident by the ID in its alert: `/vault dismiss 240475df`.",
        )
        return
    if incident.status is not IncidentStatus.OPEN:
        ack(
            response_type="ephemeral",
            text=f"Incident `{incident.id[:8]}` is {incident.status.value}; "
            "only open ones can be dismissed.",
        )
        return
    deps.store.set_incident_status(incident.id, IncidentStatus.DISMISSED)
    deps.store.record_audit(
        actor=user,
        action="dismiss",
        incident_id=incident.id,
        detail=" ".join(args[1:])[:200] or "false alarm",
    )
    ack(response_type="ephemeral", text=f"Dismissed incident `{incident.id[:8]}` as a false alarm.")


def watching(watch: bool) -> Any:
    def handle(
        *,
        ack: Ack,
        deps: Context,
        args: list[str],
        command: dict[str, Any],
        client: WebClient,
        **_: Any,
    ) -> None:
        verb = "watch" if watch else "unwatch"
        user = command["user_id"]
        if not args:
            ack(response_type="ephemeral", text=f"Name a table: `/vault {verb} airports`.")
            return
        try:
            with deps.engine.connect() as conn:
                table = load_catalogue(conn).watchable(args[0]).name
        except VaultError as exc:
            ack(response_type="ephemeral", text=str(exc))
            return
        changed = deps.store.set_watched(source=deps.source, table=table, watched=watch, actor=user)
        if changed:
            deps.store.record_audit(actor=user, action=verb, detail=f"table {table}")
        state = "now watched" if watch else "no longer watched"
        already = "" if changed else " (it already was)"
        ack(response_type="ephemeral", text=f"`{table}` is {state}{already}.")

    return handle
