"""Who may request and approve: VAULT_APPROVERS, user IDs or user-group IDs."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


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
