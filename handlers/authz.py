"""Who may do what, declared once where the listeners are registered.

Approvers are ``VAULT_APPROVERS``: user IDs, or user-group IDs whose members
count. A subcommand listed in ``APPROVERS_ONLY`` is refused, with the one
wording of ``core.errors.not_allowed``, before its listener runs; buttons whose
rules depend on who clicks (a requester may cancel their own request) get the
answer as ``authorised`` and let ``core`` decide.
"""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from usecases.context import Authorised, Context

APPROVERS_ONLY = {  # subcommand -> what the refusal says they cannot do
    "dismiss": "dismiss an incident",
    "watch": "watch tables",
    "unwatch": "unwatch tables",
    "freeze": "freeze",
    "drill": "run a drill",
}


GROUP_TTL = 60.0  # seconds a user group's members are trusted before they are asked again
_groups: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}  # (workspace API, group)
# -> (fetched at, members)
_lock = threading.Lock()


def known(client: WebClient, user: str, approvers: list[str]) -> bool | None:
    """Whether ``user`` is an approver, from what is known without asking Slack; None when
    a user group they might belong to has not been read lately (ask ``is_authorised``
    after the ack)."""
    if user in approvers:
        return True
    now, stale = time.monotonic(), False
    with _lock:
        for group in (a for a in approvers if a.startswith("S")):
            cached = _groups.get((client.base_url, group))
            if cached is None or now - cached[0] > GROUP_TTL:
                stale = True
            elif user in cached[1]:
                return True
    return None if stale else False


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
    found = known(client, user, approvers)
    if found is not None:
        return found
    for group in (a for a in approvers if a.startswith("S")):
        try:
            members = client.usergroups_users_list(usergroup=group).get("users") or []
        except (SlackApiError, SlackClientError, OSError):
            continue  # an unreadable group grants nothing (and is asked again next time)
        with _lock:
            _groups[(client.base_url, group)] = (time.monotonic(), frozenset(members))
        if user in members:
            return True
    return False
