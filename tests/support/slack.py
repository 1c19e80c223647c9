"""Checks that a message is one Slack would accept."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from usecases.render import MAX_BLOCKS, MAX_SECTION_TEXT


def assert_valid_message(text: str, blocks: list[dict[str, Any]]) -> None:
    """Plain-text fallback present; every block parses and passes slack_sdk's limits."""
    assert text.strip(), "every message needs a plain-text fallback"
    assert len(blocks) <= MAX_BLOCKS
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, f"unknown block {raw.get('type')}"
        block.validate_json()
        if raw.get("type") == "section" and raw.get("text"):
            assert len(raw["text"]["text"]) <= MAX_SECTION_TEXT
