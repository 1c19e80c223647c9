"""``/vault audit [incident]``: who did what, when, to which plan."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from usecases.context import Context
from usecases.render.restore import audit_message


def handle(*, ack: Ack, deps: Context, args: list[str], **_: Any) -> None:
    incident_id = args[0][:64] if args else None
    scope = f"incident `{incident_id[:8]}`" if incident_id else "recent actions"
    if incident_id and deps.store.incident(incident_id) is None:
        ack(
            response_type="ephemeral",
            text=f"There is no incident `{incident_id[:16]}`; `/vault audit` shows recent actions.",
        )
        return
    entries = deps.store.audit_trail(incident_id=incident_id)
    ack(response_type="ephemeral", **audit_message(entries, scope).as_kwargs())
