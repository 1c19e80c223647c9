"""Running ``flightvault serve --http`` as a real child process for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from bot.offline.wait import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
