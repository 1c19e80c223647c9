"""The Slack app manifest, for either mode: ``manifest.yml`` is its Socket Mode rendering
(a test keeps the file equal to it), ``flightvault manifest --http URL`` prints the HTTP
one with the request URLs filled in."""

from __future__ import annotations

from typing import Any

import yaml

from bot.server import EVENTS_PATH
from core.errors import ConfigError

SCOPES = {  # bot scope -> why; the code calls exactly what these allow (a test checks)
    "commands": "/vault",
    "chat:write": "alerts, thread follow-ups, chat.update of the alert, ephemeral refusals",
    "files:write": "full diff CSV, timeline chart, incident report in the thread",
    "usergroups:read": "VAULT_APPROVERS / VAULT_VIEWERS may name a user group (S…)",
    "users:read": "is the person a guest? guests never see the database's rows",
}


def base_url(raw: str) -> str:
    """The public HTTPS base the request URLs hang off; a pasted full request URL is
    accepted and trimmed. Slack calls only ``https://`` request URLs."""
    base = raw.strip().rstrip("/").removesuffix(EVENTS_PATH).rstrip("/")
    if not base.startswith("https://") or len(base) <= len("https://"):
        raise ConfigError(
            f"--http needs the bot's public HTTPS address, such as https://vault.example.com, "
            f"not {raw.strip()[:80]!r}."
        )
    return base


def manifest(http_base: str | None = None) -> dict[str, Any]:
    """Socket Mode when ``http_base`` is None; else HTTP, requests sent to that base URL."""
    command: dict[str, Any] = {
        "command": "/vault",
        "description": "Find, preview and restore damage; freeze, drill, report",
        "usage_hint": "help | find <table> | freeze <table> | drill <table> | report",
        "should_escape": False,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    if http_base is not None:
        url = base_url(http_base) + EVENTS_PATH
        command["url"] = url
        interactivity["request_url"] = url
    return {
        "display_information": {
            "name": "FlightVault",
            "description": (
                "Finds mass deletions in MariaDB temporal tables and restores them safely."
            ),
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": "FlightVault", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(SCOPES)}},
        "settings": {
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": http_base is None,
            "token_rotation_enabled": False,
        },
    }


def render(http_base: str | None = None) -> str:
    mode = f"HTTP, requests to {http_base}" if http_base else "Socket Mode"
    why = "\n".join(f"#   {scope}: {reason}" for scope, reason in SCOPES.items())
    head = (
        f"# Slack app manifest for FlightVault ({mode}). Create the app from it at\n"
        '# api.slack.com/apps -> "Create New App" -> "From an app manifest".\n'
        "# Scopes list only what the code calls (a test checks). Modals need no scope.\n"
        f"{why}\n"
    )
    body = yaml.safe_dump(manifest(http_base), sort_keys=False, allow_unicode=True)
    return head + body
