"""Shared step of slow subcommands: parse and check before the ack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from slack_bolt import Ack

from handlers.reporting import sentence
from usecases.context import Context
from usecases.errors import VaultError
from usecases.render.finder import searching_message

T = TypeVar("T")


def accept(
    deps: Context, ack: Ack, parse: Callable[[datetime], T], table_of: Callable[[T], str]
) -> tuple[datetime, T, Context, str] | None:
    """Parse and resolve the table (``schema.table`` or a bare name) before the ack; ack
    "Searching…" or one refusal sentence.

    Returns the time, the parsed request, the table's schema and its name, or None when
    the command was refused (already answered).
    """
    try:
        now = datetime.now(UTC)
        parsed = parse(now)
        view, table = deps.resolve(table_of(parsed))
    except VaultError as exc:
        ack(response_type="ephemeral", text=sentence(exc))
        return None
    ack(response_type="ephemeral", **searching_message(table_of(parsed)).as_kwargs())
    return now, parsed, view, table
