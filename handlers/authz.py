"""Who may do what, declared once where the listeners are registered.

* Approvers (``VAULT_APPROVERS``: user IDs, or user-group IDs whose members count)
  may do everything.
* Everyone else may use the read commands and buttons (``READS``), unless
  ``VAULT_VIEWERS`` names who may; guests (``is_restricted``) never may, since the
  answers show the database's rows.
* ``APPROVERS_ONLY`` subcommands are refused to everyone else. Buttons whose rule
  depends on who clicks (a requester may cancel their own request) get the answer
  as ``authorised`` and let ``core`` decide.

Every refusal has one wording (``core.errors``). Deciding may need the Web API (a
user group's members, a user's guest flag): answers are cached for a minute, and a
question that must be asked is asked after the ack, never before.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.ids import Action
from usecases.context import Authorised, Context
from usecases.errors import not_allowed, not_shown

APPROVERS_ONLY = {  # subcommand -> what the refusal says they cannot do
    "dismiss": "dismiss an incident",
    "watch": "watch tables",
    "unwatch": "unwatch tables",
    "freeze": "freeze",
    "drill": "run a drill",
    "protect": "protect tables",
    "retention": "set history retention",
}
READS = {  # subcommands and buttons that show the database's rows or its incidents
    "find": "search the history",
    "at": "travel in time",
    "audit": "read the audit trail",
    "status": "see FlightVault's status",
    "report": "write incident reports",
    Action.FIND_RESTORE_POINT.value: "search the history",
    Action.SHOW_FULL_DIFF.value: "see the changed rows",
    Action.TRAVEL_PREVIOUS.value: "travel in time",
    Action.TRAVEL_NEXT.value: "travel in time",
    Action.PREVIEW_RESTORE.value: "preview a restore",
    Action.PREVIEW_TO_HERE.value: "preview a restore",
    Action.UNDO_RESTORE.value: "preview an undo",
}

TTL = 60.0  # seconds a group's members or a user's guest flag are trusted
_cache: dict[tuple[str, str], tuple[float, Any]] = {}  # (workspace API, group or user) -> …
_lock = threading.Lock()

Decision = str | None  # the refusal sentence, or None: allowed


def _cached(client: WebClient, key: str) -> Any:
    with _lock:
        found = _cache.get((client.base_url, key))
    return None if found is None or time.monotonic() - found[0] > TTL else found[1]


def _keep(client: WebClient, key: str, value: Any) -> None:
    with _lock:
        _cache[(client.base_url, key)] = (time.monotonic(), value)


def _member(client: WebClient, user: str, ids: list[str], *, ask: bool) -> bool | None:
    """``user`` is listed in ``ids`` directly or through a group; None: unknown without
    asking Slack (and ``ask`` is false)."""
    if user in ids:
        return True
    unknown = False
    for group in (i for i in ids if i.startswith("S")):
        members = _cached(client, group)
        if members is None and ask:
            try:
                members = frozenset(client.usergroups_users_list(usergroup=group)["users"] or [])
            except (SlackApiError, SlackClientError, OSError, KeyError):
                continue  # an unreadable group grants nothing (and is asked again next time)
            _keep(client, group, members)
        if members is None:
            unknown = True
        elif user in members:
            return True
    return None if unknown else False


def _guest(client: WebClient, user: str, *, ask: bool) -> bool | None:
    flag = _cached(client, user)
    if flag is None and ask:
        try:
            info = client.users_info(user=user)["user"]
        except (SlackApiError, SlackClientError, OSError, KeyError):
            return True  # unknown people see no rows
        flag = bool(info.get("is_restricted") or info.get("is_ultra_restricted"))
        _keep(client, user, flag)
    return None if flag is None else bool(flag)


def decide(ctx: Context, client: WebClient, user: str, name: str, *, ask: bool) -> Decision | bool:
    """The policy for ``name`` (a subcommand or an action ID): None to allow, the refusal
    sentence, or False when it cannot be told without asking Slack (``ask`` false)."""
    settings = ctx.settings
    if name not in APPROVERS_ONLY and name not in READS:
        return None
    approver = _member(client, user, settings.vault_approvers, ask=ask)
    if approver:
        return None
    if name in APPROVERS_ONLY:
        return False if approver is None else not_allowed(APPROVERS_ONLY[name])
    what = READS[name]
    if settings.vault_viewers:
        viewer = _member(client, user, settings.vault_viewers, ask=ask)
        if viewer is None or (not viewer and approver is None):
            return False
        if not viewer:
            return not_shown(what)
    guest = _guest(client, user, ask=ask)
    if guest is None:
        return False
    return not_shown(what, guest=True) if guest else None


def approver(ctx: Context, client: WebClient, user: str) -> Authorised:
    """The question "is ``user`` an approver?", asked at most once and only if needed."""
    answer: list[bool] = []

    def ask() -> bool:
        if not answer:
            answer.append(is_authorised(client, user, ctx.settings.vault_approvers))
        return answer[0]

    return ask


def is_authorised(client: WebClient, user: str, approvers: list[str]) -> bool:
    """Asks Slack for stale groups' members (a Web API call: never before the ack)."""
    return bool(_member(client, user, approvers, ask=True))
