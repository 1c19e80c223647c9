"""Sends Slack's requests to the bot over real HTTP, signed the v0 way."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.offline.webapi import FakeSlackAPI
from bot.server import EVENTS_PATH


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    elapsed: float

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body)) if self.body else {}


class SlackDriver:
    """Plays Slack: slash commands and button clicks, signed with the app's secret."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        response_root: str,
        slack: FakeSlackAPI | None = None,
    ) -> None:
        self.url = bot_url.rstrip("/") + EVENTS_PATH
        self.signer = SignatureVerifier(signing_secret)
        self.response_root = response_root
        self.slack = slack  # to click on the message that shows a button, as a person does
        self._n = 0

    def _response_url(self) -> str:
        self._n += 1
        return f"{self.response_root}/response/r{self._n}"

    def slash(
        self,
        text: str,
        *,
        user: str = "U0ALICE",
        channel: str = "C0INCIDENT",
        command: str = "/vault",
    ) -> Reply:
        form = {
            "token": "legacy-unused",
            "team_id": "T0TEST",
            "team_domain": "flightvault-test",
            "channel_id": channel,
            "channel_name": "incidents",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "response_url": self._response_url(),
            "trigger_id": f"trigger.{time.time_ns()}",
            "api_app_id": "A0FLIGHTV",
        }
        return self.post(urlencode(form).encode())

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U0ALICE",
        channel: str | None = None,
        message_ts: str | None = None,
        block_id: str = "actions",
    ) -> Reply:
        """Click the button ``action_id`` with ``value``; by default on the latest message the
        stand-in shows with that button (where a person would click it)."""
        if message_ts is None and self.slack is not None:
            shown = self.slack.showing(action_id, value)
            if shown is not None:
                channel, message_ts = channel or shown[0], shown[1]
        channel, message_ts = channel or "C0INCIDENT", message_ts or "1.000001"
        payload = {
            "type": "block_actions",
            "api_app_id": "A0FLIGHTV",
            "user": {"id": user, "username": user.lower(), "team_id": "T0TEST"},
            "team": {"id": "T0TEST", "domain": "flightvault-test"},
            "channel": {"id": channel, "name": "incidents"},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "message": {"ts": message_ts, "text": "", "type": "message"},
            "response_url": self._response_url(),
            "trigger_id": f"trigger.{time.time_ns()}",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}).encode())

    def submit_view(
        self,
        callback_id: str,
        private_metadata: str,
        values: dict[str, dict[str, str]],
        *,
        user: str = "U0ALICE",
    ) -> Reply:
        """Submit a modal; ``values`` maps block_id -> action_id -> typed text."""
        payload = {
            "type": "view_submission",
            "api_app_id": "A0FLIGHTV",
            "team": {"id": "T0TEST", "domain": "flightvault-test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0TEST"},
            "trigger_id": f"trigger.{time.time_ns()}",
            "view": {
                "id": "V0MODAL",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {
                    "values": {
                        block: {
                            action: {"type": "plain_text_input", "value": text}
                            for action, text in actions.items()
                        }
                        for block, actions in values.items()
                    }
                },
            },
        }
        return self.post(urlencode({"payload": json.dumps(payload)}).encode())

    def post(
        self,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        sign: bool = True,
    ) -> Reply:
        """POST a raw body; signed unless ``sign`` is false or headers override it."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sent = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            sent["X-Slack-Request-Timestamp"] = ts
            sent["X-Slack-Signature"] = self.signer.generate_signature(timestamp=ts, body=body)
        sent.update(headers or {})
        request = urllib.request.Request(self.url, data=body, headers=sent, method="POST")
        start = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return Reply(response.status, text, time.monotonic() - start)
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read().decode(), time.monotonic() - start)
        except (urllib.error.URLError, ConnectionError) as err:
            # The server hung up (e.g. on an oversized body) before answering: status 0.
            return Reply(0, str(err), time.monotonic() - start)
