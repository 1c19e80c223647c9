"""Who may do what, declared once where the listeners are registered.

Approvers are ``VAULT_APPROVERS``: user IDs, or user-group IDs whose members
count. A subcommand listed in ``APPROVERS_ONLY`` is refused, with the one
wording of ``core.errors.not_allowed``, before its listener runs; buttons whose
rules depend on who clicks (a requester may cancel their own request) get the
answer as ``authorised`` and let ``core`` decide.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from usecases.context import Authorised, Context

APPROVERS_ONLY = {  # subcommand -> what the refusal says they cannot do
    "dismiss": "dismiss an incident",
    "watch": "watch tables",
    "unwatch": "unwatch tables",
    "freeze": "freeze",
    "drill": "run a drill",
}


def approver(ctx: Context, client: WebClient, user: str) -> Authorised:
    """The question "is ``user`` an approver?", asked at most once and only if needed."""
    answer: list[bool] = []

    def ask() -> bool:
        if not answer:
            answer.append(is_authorised(client, user, ctx.settings.vault_approvers))
        return answer[0]

    return ask


def is_authorised(client: WebClient, user: str, approvers: list[str]) -> bool:
    if user in approvers:
        return True
    for group in (a for a in approvers if a.startswith("S")):
        try:
            members = client.usergroups_users_list(usergroup=group).get("users") or []
        except SlackApiError:
            continue  # an unreadable group grants nothing
        if user in members:
            return True
    return False
