"""``/vault find`` and ``/vault at`` over signed HTTP, answers checked at the Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from core.timeutil import fmt_instant
from tests.core.detect_schema import STATIONS
from tests.support.slack import assert_valid_message
from tests.support.sql import now, run_sql


@pytest.fixture
def bot(database_url: str, engine: Engine) -> Iterator[OfflineBot]:
    run_sql(engine, *STATIONS, "CREATE TABLE notes (id INT PRIMARY KEY)")
    with OfflineBot(database_url) as offline:
        yield offline


def responses(bot: OfflineBot) -> list[Call]:
    return [c for c in bot.slack.calls if c.kind == "response"]


def test_find_posts_the_restore_point_and_removes_searching(
    bot: OfflineBot, engine: Engine
) -> None:
    t0 = now(engine)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    reply = bot.driver.slash("find stations since 1h")
    assert reply.status == 200 and reply.elapsed < 3
    ack = reply.json()
    assert ack["response_type"] == "ephemeral" and ack["text"].startswith("Searching the history")
    (answer,) = bot.slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == "C0INCIDENT" and not answer.params.get("thread_ts")
    assert_valid_message(answer.text, answer.blocks)
    text = answer.blocks[0]["text"]["text"]
    assert text.startswith("*Restore point for `stations`: `")
    point = text.split("`")[3]
    assert point > fmt_instant(t0)
    assert "`trips`: 300 rows deleted (ON DELETE CASCADE)" in text
    (tidy,) = wait_until(lambda: responses(bot), what="searching removed")
    assert tidy.params.get("delete_original") in (True, "true")
    (chart,) = wait_until(lambda: [c for c in bot.slack.calls if c.kind == "upload"], what="chart")
    assert chart.params["data"].startswith(b"\x89PNG") and chart.params["bytes"] > 10_000
    (done,) = bot.slack.wait_for("files.completeUploadExternal")
    assert done.params["thread_ts"] == answer.params.get("ts", done.params["thread_ts"])


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("find", "Name a table"),
        ("find nope", "There is no table `nope`"),
        ("find Stations", "Did you mean `stations`?"),
        ("find notes", "`notes` cannot be watched: it is not system-versioned"),
        ("find stations since banana", "is not a time I understand"),
        ("find stations before 2099-01-01", "`before` is in the future"),
        ("find stations sinse 2h", "I don't understand `sinse`"),
        ("find stations check", "`check` needs a value"),
        ("at stations", "Give a table and a time"),
        ("at stations tomorrow", "is not a time I understand"),
    ],
)
def test_bad_input_gets_one_ephemeral_sentence(bot: OfflineBot, text: str, sentence: str) -> None:
    reply = bot.driver.slash(text)
    body = reply.json()
    assert reply.status == 200 and body["response_type"] == "ephemeral"
    assert sentence in body["text"] and "\n" not in body["text"]
    assert bot.slack.calls_to("chat.postMessage") == []


def test_no_damage_replaces_searching_with_a_sentence(bot: OfflineBot) -> None:
    assert bot.driver.slash("find stations").json()["text"].startswith("Searching")
    (said,) = wait_until(lambda: responses(bot), what="an answer")
    assert said.params["response_type"] == "ephemeral"
    assert said.params["replace_original"] in (True, "true")
    assert said.params["text"].startswith("No damage found in `stations` between")
    assert "Try `since 7d`" in said.params["text"]
    assert bot.slack.calls_to("chat.postMessage") == []


def test_find_answers_in_the_open_incident_thread(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, watch=True) as bot:
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        (alert,) = bot.slack.wait_for("chat.postMessage")
        incident_id = alert.blocks[4]["elements"][0]["value"]
        wait_until(lambda: (i := bot.store.incidents.get(incident_id)) and i.root_ts, what="root")
        bot.driver.slash("find stations")
        _, answer = bot.slack.wait_for("chat.postMessage", 2)
        incident = bot.store.incidents.get(incident_id)
    assert incident is not None and answer.params["thread_ts"] == incident.root_ts


def test_time_travel_steps_through_events(bot: OfflineBot, engine: Engine) -> None:
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    run_sql(engine, "UPDATE stations SET name = 'Renamed' WHERE id = 1")
    t = now(engine) - timedelta(milliseconds=1)
    wait_until(lambda: now(engine) > t, what="clock")
    damage_text = bot.driver.slash("find stations")  # to learn the restore point
    assert damage_text.status == 200
    (found,) = bot.slack.wait_for("chat.postMessage")
    point = found.blocks[0]["text"]["text"].split("`")[3]
    reply = bot.driver.slash(f"at stations {point}")
    assert reply.json()["text"].startswith("Searching")
    _, view = bot.slack.wait_for("chat.postMessage", 2)
    assert_valid_message(view.text, view.blocks)
    assert "1,000 rows then, 900 rows now" in view.blocks[0]["text"]["text"]
    assert "100 rows deleted, 0 rows inserted, 1 row changed" in view.blocks[0]["text"]["text"]
    nav = view.blocks[-1]["elements"]
    assert [b["action_id"] for b in nav] == [
        Action.TRAVEL_NEXT.value,
        Action.PREVIEW_TO_HERE.value,
    ]
    ts = "1700000000.000100"
    bot.driver.click(Action.TRAVEL_NEXT.value, nav[0]["value"], message_ts=ts)
    (moved,) = bot.slack.wait_for("chat.update")
    assert moved.params["ts"] == ts
    assert "900 rows then, 900 rows now" in moved.blocks[0]["text"]["text"]
    actions = [b["action_id"] for b in moved.blocks[-1]["elements"]]
    assert actions[:2] == [Action.TRAVEL_PREVIOUS.value, Action.TRAVEL_NEXT.value]
    bot.driver.click(Action.TRAVEL_PREVIOUS.value, moved.blocks[-1]["elements"][0]["value"])
    _, back = bot.slack.wait_for("chat.update", 2)
    assert "1,000 rows then, 900 rows now" in back.blocks[0]["text"]["text"]  # just before


def test_help_lists_every_subcommand(bot: OfflineBot) -> None:
    text = bot.driver.slash("help").json()["blocks"][0]["text"]["text"]
    for form in ("/vault help", "/vault find <table>", "/vault at <table> <time>"):
        assert form in text


def test_a_command_in_a_channel_without_the_bot_says_to_invite_it(
    bot: OfflineBot, engine: Engine
) -> None:
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    bot.slack.absent.add("C0ELSEWHERE")
    assert bot.driver.slash("find stations since 1h", channel="C0ELSEWHERE").status == 200
    (said,) = wait_until(
        lambda: [c for c in responses(bot) if "invite me" in str(c.params.get("text"))],
        what="the invitation sentence",
    )
    assert said.params["response_type"] == "ephemeral"
    assert "Something went wrong" not in str([c.params for c in responses(bot)])
