"""``flightvault serve --http`` as a real process: answers, reports health, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.offline.wait import wait_until
from bot.offline.webapi import FakeSlackAPI
from bot.private_server import free_port
from tests.support.process import get


def serve(
    slack: FakeSlackAPI, database_url: str, tmp_path: Path, *args: str, **settings: str
) -> subprocess.Popen[bytes]:
    """``flightvault serve ARGS`` as its own process, against the stand-in, output captured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VAULT_"))}
    env.update(
        SLACK_BOT_TOKEN=slack.token,
        SLACK_API_URL=slack.base_url,
        VAULT_DATABASE_URL=database_url,
        VAULT_ALERT_CHANNEL="C0INCIDENT",
        VAULT_APPROVERS="U0ALICE,U0BOB",
        VAULT_STATE_URL=f"sqlite:///{tmp_path}/state.db",
    )
    env.update(settings)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stopped(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM: it must drain and exit 0 within 15 s. Its whole output."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert time.monotonic() - started < 15
    output = process.stdout.read().decode() if process.stdout is not None else ""
    if process.stdout is not None:
        process.stdout.close()
    return output


def test_serve_http_health_metrics_and_sigterm(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    with FakeSlackAPI(token="xoxb-serve-test") as slack:
        process = serve(
            slack,
            database_url,
            tmp_path,
            "--http",
            "--host",
            "127.0.0.1",
            SLACK_SIGNING_SECRET="s3cret",
            PORT=str(port),
        )
        try:
            status, body = wait_until(
                lambda: (r := get(f"http://127.0.0.1:{port}/healthz"))[0] and r,
                timeout=30,
                what="the server",
            )
            health = json.loads(body)
            assert status == 200 and health == {"ok": True, "status": "ok", "reasons": []}
            assert b"flightvault_alerts_posted_total" in get(f"http://127.0.0.1:{port}/metrics")[1]
            time.sleep(3)  # about 30 watcher ticks: none of them may log at the default level
            output = stopped(process)
        finally:
            if process.poll() is None:
                process.kill()
        assert "Traceback" not in output and "s3cret" not in output
        assert len(output.splitlines()) < 15, output[-2000:]


def test_serve_socket_mode_drains_and_exits_0_on_sigterm(database_url: str, tmp_path: Path) -> None:
    with FakeSlackAPI(token="xoxb-serve-test", app_token="xapp-serve-test") as slack:
        process = serve(slack, database_url, tmp_path, SLACK_APP_TOKEN="xapp-serve-test")
        try:
            wait_until(
                lambda: slack.link is not None and slack.link.connections > 0,
                timeout=30,
                what="the Socket Mode connection",
            )
            output = stopped(process)
        finally:
            if process.poll() is None:
                process.kill()
        assert "Traceback" not in output and "xapp-serve-test" not in output
        assert "stopping: finishing in-flight work" in output


def test_ops_port_and_json_logs(database_url: str, tmp_path: Path) -> None:
    """/healthz and /metrics on their own port (the Slack port no longer answers them), and
    every log line a JSON object."""
    port, ops = free_port(), free_port()
    with FakeSlackAPI(token="xoxb-serve-test") as slack:
        process = serve(
            slack,
            database_url,
            tmp_path,
            "--http",
            "--host",
            "127.0.0.1",
            SLACK_SIGNING_SECRET="s3cret",
            VAULT_OPS_PORT=str(ops),
            VAULT_LOG_FORMAT="json",
            PORT=str(port),
        )
        try:
            status, body = wait_until(
                lambda: (r := get(f"http://127.0.0.1:{ops}/healthz"))[0] and r,
                timeout=30,
                what="the ops port",
            )
            assert status == 200 and json.loads(body)["status"] == "ok"
            assert b"flightvault_alerts_posted_total" in get(f"http://127.0.0.1:{ops}/metrics")[1]
            main = wait_until(
                lambda: _status(f"http://127.0.0.1:{port}/healthz"), what="the Slack port"
            )
            assert main == 404
            output = stopped(process)
        finally:
            if process.poll() is None:
                process.kill()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(e) for e in lines)
    assert any("stopping" in e["message"] for e in lines)


def _status(url: str) -> int:
    """The HTTP status, errors included; 0 while nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def test_a_refused_token_or_an_unreachable_slack_is_one_sentence(
    database_url: str, tmp_path: Path
) -> None:
    with FakeSlackAPI(token="xoxb-serve-test") as slack:
        slack.refuse("auth.test", "invalid_auth")
        said = exited(serve(slack, database_url, tmp_path, "--http", SLACK_SIGNING_SECRET="s"))
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in said
    assert "Traceback" not in said and "unexpected error" not in said
    with FakeSlackAPI(token="xoxb-serve-test") as slack:
        gone = f"http://127.0.0.1:{free_port()}/api/"
        said = exited(
            serve(
                slack,
                database_url,
                tmp_path,
                "--http",
                SLACK_SIGNING_SECRET="s",
                SLACK_API_URL=gone,
            )
        )
    assert f"Cannot reach Slack at {gone}" in said and "Traceback" not in said


def exited(process: subprocess.Popen[bytes]) -> str:
    """It must exit 2 (a configuration problem) by itself; its whole output."""
    assert process.wait(timeout=60) == 2
    assert process.stdout is not None
    with process.stdout:
        return process.stdout.read().decode()
