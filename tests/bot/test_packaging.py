"""The manifest, Dockerfile and server agree with the code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from dataclasses import replace
from pathlib import Path

import yaml
from slack_sdk import WebClient

from bot.commands import SLASH_COMMAND
from bot.manifest import render
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.server import EVENTS_PATH, HEALTH_PATH, METRICS_PATH, Health
from core.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


SCOPES: dict[str, str | None] = {  # slack_sdk method -> the bot scope it needs
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "chat_postEphemeral": "chat:write",
    "views_open": None,  # a modal needs only the click's trigger_id
    "files_upload_v2": "files:write",
    "usergroups_users_list": "usergroups:read",
    "users_info": "users:read",
}
CALL = re.compile(r"\.(chat_\w+|files_\w+|usergroups_\w+|users_\w+|conversations_\w+|views_\w+)\(")


def test_manifest_scopes_are_exactly_what_the_code_calls() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    called = {
        name
        for folder in ("bot", "handlers", "usecases")
        for path in (ROOT / folder).rglob("*.py")
        for name in CALL.findall(path.read_text())
    }
    assert called <= SCOPES.keys(), f"add scopes for {called - SCOPES.keys()}"
    needed = {SCOPES[name] for name in called if SCOPES[name]} | {
        "commands"
    }  # /vault needs `commands`
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


def test_healthz_reports_status_and_reasons_not_connection_details(
    offline_bot: OfflineBot,
) -> None:
    with urllib.request.urlopen(offline_bot.server.url + HEALTH_PATH, timeout=5) as reply:
        raw = reply.read().decode()
    assert reply.status == 200
    assert json.loads(raw) == {"ok": True, "status": "ok", "reasons": []}
    assert "MariaDB" not in raw and "Test" not in raw and "127.0.0.1" not in raw


def test_metrics_are_exposed(offline_bot: OfflineBot) -> None:
    offline_bot.driver.click("vault_approve_restore", "no-such-plan")
    wait_until(
        lambda: offline_bot.runtime.deps.metrics.refused_approvals._value.get() == 1,
        what="the refusal counted",
    )
    with urllib.request.urlopen(offline_bot.server.url + METRICS_PATH, timeout=5) as reply:
        text = reply.read().decode()
    for name in (
        "flightvault_alerts_posted_total",
        "flightvault_detection_latency_seconds_bucket",
        "flightvault_finder_duration_seconds_count",
        "flightvault_restore_duration_seconds",
        "flightvault_poll_errors_total",
    ):
        assert name in text
    assert "flightvault_refused_clicks_total 1.0" in text


def test_compose_agrees_with_the_dockerfile_and_the_code() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    bot = compose["services"]["flightvault"]
    assert bot["command"] == ["flightvault", "serve", "--http"]
    assert bot["ports"] == ["3000:3000"] and bot["environment"]["PORT"] == "3000"
    assert bot["environment"]["VAULT_DATABASE_URL"].startswith("mariadb+mariadbconnector://")
    assert compose["services"]["seed"]["command"] == ["flightvault", "seed-demo"]
    assert compose["services"]["mariadb"]["image"].startswith("mariadb:10.11")
    from bot.cli import build_parser

    parsed = build_parser().parse_args(["serve", "--http"])
    assert parsed.http and parsed.port is None  # PORT from the environment, default 3000


def test_healthz_degraded_says_why_in_words_only(offline_bot: OfflineBot) -> None:
    dead = make_engine("mariadb+mariadbconnector://root@127.0.0.1:9/nowhere")
    ctx = replace(offline_bot.runtime.deps, engine=dead)
    client = WebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/api/")
    try:
        status = Health(ctx, client)()
    finally:
        dead.dispose()
    assert status["ok"] is False and status["status"] == "degraded"
    assert status["reasons"] == [
        "the watched database does not answer",
        "Slack does not accept the bot's token or cannot be reached",
    ]
    assert "127.0.0.1" not in json.dumps(status) and "nowhere" not in json.dumps(status)


def test_manifest_yml_is_the_socket_mode_rendering() -> None:
    assert (ROOT / "manifest.yml").read_text() == render()


def test_http_manifest_fills_in_the_request_urls(tmp_path: Path) -> None:
    """``flightvault manifest --http URL``: installable as-is for HTTP mode, same scopes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VAULT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "manifest", "--http", "https://vault.example.com/"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    http = yaml.safe_load(done.stdout)
    url = "https://vault.example.com/slack/events"
    assert http["features"]["slash_commands"][0]["url"] == url
    assert http["settings"]["interactivity"]["request_url"] == url
    assert http["settings"]["socket_mode_enabled"] is False
    socket = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert http["oauth_config"] == socket["oauth_config"]
