"""Hostile HTTP requests are refused before any handler runs, leaving only a log line."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from bot.offline.harness import OfflineBot


def _form(text: str = "help") -> bytes:
    return urlencode(
        {
            "command": "/vault",
            "text": text,
            "user_id": "U0MALLORY",
            "channel_id": "C0INCIDENT",
            "response_url": "http://127.0.0.1:9/r",
        }
    ).encode()


def _signed(bot: OfflineBot, body: bytes, **headers: str) -> int:
    return bot.driver.post(body, headers=headers).status


def _nothing_happened(bot: OfflineBot) -> None:
    time.sleep(0.2)
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []
    assert bot.store.audit.trail() == []


def test_forged_signature(offline_bot: OfflineBot) -> None:
    assert _signed(offline_bot, _form(), **{"X-Slack-Signature": "v0=" + "ab" * 32}) == 401
    _nothing_happened(offline_bot)


def test_signature_for_another_body(offline_bot: OfflineBot) -> None:
    ts = str(int(time.time()))
    other = offline_bot.driver.signer.generate_signature(timestamp=ts, body=_form("status"))
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": other}
    assert offline_bot.driver.post(_form(), headers=headers, sign=False).status == 401
    _nothing_happened(offline_bot)


@pytest.mark.parametrize("age", [301, 3600, -400])
def test_timestamp_outside_five_minutes(offline_bot: OfflineBot, age: int) -> None:
    assert offline_bot.driver.post(_form(), timestamp=int(time.time()) - age).status == 401
    _nothing_happened(offline_bot)


@pytest.mark.parametrize("missing", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
def test_missing_header(offline_bot: OfflineBot, missing: str) -> None:
    ts = str(int(time.time()))
    body = _form()
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": offline_bot.driver.signer.generate_signature(timestamp=ts, body=body),
    }
    del headers[missing]
    assert offline_bot.driver.post(body, headers=headers, sign=False).status == 401
    _nothing_happened(offline_bot)


def test_oversized_body(offline_bot: OfflineBot) -> None:
    huge = _form("x" * (2 * 1024 * 1024))
    assert offline_bot.driver.post(huge).status in (413, 0)  # refused, or hung up on mid-send
    _nothing_happened(offline_bot)


@pytest.mark.parametrize("payload", ["{not json", "[1, 2]", '"text"', ""])
def test_malformed_payload_even_when_signed(offline_bot: OfflineBot, payload: str) -> None:
    assert offline_bot.driver.post(urlencode({"payload": payload}).encode()).status == 400
    _nothing_happened(offline_bot)


def test_a_replayed_request_is_refused(offline_bot: OfflineBot) -> None:
    """The same signed request sent twice within five minutes runs once."""
    ts = int(time.time())
    body = urlencode(
        {
            "command": "/vault",
            "text": "audit",
            "user_id": "U0ALICE",
            "channel_id": "C0INCIDENT",
            "response_url": "http://127.0.0.1:9/r",
        }
    ).encode()
    first = offline_bot.driver.post(body, timestamp=ts)
    assert first.status == 200 and "audit entries" in first.body
    again = offline_bot.driver.post(body, timestamp=ts)
    assert again.status == 401
    assert offline_bot.driver.post(body, timestamp=ts + 1).status == 200  # a new signature
