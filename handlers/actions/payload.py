"""What a click carries."""

from __future__ import annotations

from typing import Any

from usecases.port import Posted

ID_LENGTH = 64


def button_value(body: dict[str, Any]) -> str:
    """The clicked button's opaque ID, cut to the state store's key length.

    Values come back from Slack's client unverified; a forged oversized value
    must fail as "not found", not as a database error.
    """
    return str(body["actions"][0].get("value", ""))[:ID_LENGTH]


def clicked_on(body: dict[str, Any]) -> Posted:
    """The message whose button was clicked."""
    return Posted(body["channel"]["id"], body["container"]["message_ts"])
