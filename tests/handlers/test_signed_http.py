"""Slack's requests over real HTTP: signed ones are answered, forged ones refused."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from bot.offline.harness import OfflineBot
from bot.offline.webapi import FakeSlackAPI
from tests.support.slack import assert_valid_message


def test_vault_help_round_trip(offline_bot: OfflineBot) -> None:
    reply = offline_bot.driver.slash("help")
    assert reply.status == 200
    body = reply.json()
    assert_valid_message(body["text"], body["blocks"])
    assert "/vault help" in body["blocks"][0]["text"]["text"]
    assert offline_bot.slack.calls_to("auth.test"), "Bolt checked its token against the stand-in"


def test_empty_command_shows_help(offline_bot: OfflineBot) -> None:
    assert "/vault help" in offline_bot.driver.slash("").body


def test_unknown_subcommand_gets_one_sentence(offline_bot: OfflineBot) -> None:
    reply = offline_bot.driver.slash("frobnicate `x`; DROP TABLE airports")
    assert reply.status == 200
    body = reply.json()
    assert (
        body["text"] == "I don't know `/vault frobnicate`. Try `/vault help` to see what I can do."
    )
    assert body["response_type"] == "ephemeral"
    assert "blocks" not in body


def _form() -> bytes:
    return urlencode({"command": "/vault", "text": "help", "user_id": "U0MALLORY"}).encode()


def test_forged_signature_is_refused(offline_bot: OfflineBot) -> None:
    forged = {"X-Slack-Signature": "v0=" + "0" * 64}
    assert offline_bot.driver.post(_form(), headers=forged).status == 401


def test_signature_for_another_body_is_refused(offline_bot: OfflineBot) -> None:
    ts = str(int(time.time()))
    signature = offline_bot.driver.signer.generate_signature(timestamp=ts, body=b"text=other")
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    assert offline_bot.driver.post(_form(), headers=headers, sign=False).status == 401


def test_stale_timestamp_is_refused(offline_bot: OfflineBot) -> None:
    stale = int(time.time()) - 6 * 60
    assert offline_bot.driver.post(_form(), timestamp=stale).status == 401


def test_unsigned_request_is_refused(offline_bot: OfflineBot) -> None:
    assert offline_bot.driver.post(_form(), sign=False).status == 401


def test_web_api_stand_in_retries_after_rate_limit() -> None:
    from bot.app import make_client

    with FakeSlackAPI(token="xoxb-t") as api:
        client = make_client("xoxb-t", api.base_url)
        api.fail("chat.postMessage", 429, times=1, retry_after=1)
        started = time.monotonic()
        response = client.chat_postMessage(channel="C0INCIDENT", text="hello")
        assert response["ok"] and time.monotonic() - started >= 1.0
        (call,) = api.calls_to("chat.postMessage")
        assert call.text == "hello"
