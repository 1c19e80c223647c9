"""Running the ``flightvault`` CLI, and ``serve --http``, as real child processes for tests."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from bot.offline.wait import wait_until


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``flightvault ARGS`` with only ``env`` for settings (the caller's own are dropped)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VAULT_", "FV_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status, reply.read()
    except OSError:
        return 0, b""


def start_bot(cwd: Path, port: int, **settings: str) -> subprocess.Popen[bytes]:
    """Start the bot and wait until /healthz answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VAULT_"))}
    env.update(settings, PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(
        lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
        timeout=30,
        what="the bot process",
    )
    return process
