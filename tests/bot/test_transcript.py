"""The offline transcript shows a header block as Slack does, a title standing apart, not as
Markdown's ``## Title``."""

from __future__ import annotations

from bot.offline.transcript import describe, header_lines
from bot.offline.webapi import Call


def test_header_is_a_title_underlined_to_its_width() -> None:
    assert header_lines(":rotating_light: 2 rows deleted from airports") == [
        ":rotating_light: 2 rows deleted from airports",
        "━" * 45,
    ]


def test_wide_characters_count_twice_and_entities_are_unescaped() -> None:
    title, rule = header_lines("漢字 &amp; more")
    assert title == "漢字 & more" and rule == "━" * 11


def test_a_posted_header_block_prints_without_markdown_hashes() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Restore point"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Table*: `airports`"}},
    ]
    call = Call("api", "chat.postMessage", {"channel": "C1", "blocks": blocks, "text": "x"})
    assert describe(call) == (
        "FlightVault in C1\n  │ Restore point\n  │ ━━━━━━━━━━━━━\n  │ *Table*: `airports`"
    )
