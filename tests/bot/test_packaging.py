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


def test_manifest_declares_the_slash_command_the_handlers_serve() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == [SLASH_COMMAND]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "files:write",
    }
    assert manifest["settings"]["socket_mode_enabled"] is True


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
