"""The manifest, Dockerfile and server agree with the code."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import yaml

from bot.commands import SLASH_COMMAND
from bot.offline.harness import OfflineBot
from bot.server import EVENTS_PATH, HEALTH_PATH

ROOT = Path(__file__).resolve().parents[2]


SCOPES = {  # slack_sdk method -> the bot scope it needs
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "files_upload_v2": "files:write",
    "usergroups_users_list": "usergroups:read",
}
CALL = re.compile(r"\.(chat_\w+|files_\w+|usergroups_\w+|users_\w+|conversations_\w+)\(")


def test_manifest_scopes_are_exactly_what_the_code_calls() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    called = {
        name
        for folder in ("bot", "handlers")
        for path in (ROOT / folder).rglob("*.py")
        for name in CALL.findall(path.read_text())
    }
    assert called <= SCOPES.keys(), f"add scopes for {called - SCOPES.keys()}"
    needed = {SCOPES[name] for name in called} | {"commands"}  # /vault needs `commands`
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_manifest_declares_the_slash_command_the_handlers_serve() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == [SLASH_COMMAND]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_dockerfile_runs_http_mode_and_checks_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["flightvault", "serve", "--http"]' in dockerfile
    assert HEALTH_PATH in dockerfile and "EXPOSE 3000" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "runs as a non-root user"
    assert EVENTS_PATH == "/slack/events"


def test_healthz_reports_the_database(offline_bot: OfflineBot) -> None:
    with urllib.request.urlopen(offline_bot.server.url + HEALTH_PATH, timeout=5) as reply:
        body = json.loads(reply.read())
    assert reply.status == 200 and body["ok"] is True
    assert "MariaDB" in body["database"]
