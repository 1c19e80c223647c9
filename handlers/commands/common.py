"""Shared steps of slow subcommands: validate before the ack, answer where the incident lives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from slack_bolt import Ack

from core.catalogue import Catalogue
from core.errors import VaultError
from usecases import threads
from usecases.context import Context
from usecases.render.finder import searching_message

T = TypeVar("T")


def accept(
    deps: Context, ack: Ack, parse: Callable[[datetime], T], table_of: Callable[[T], str]
) -> tuple[Catalogue, datetime, T] | None:
    """Parse and check the table before the ack; ack "Searching…" or one refusal sentence.

    Returns None when the command was refused (already answered).
    """
    try:
        catalogue, now = deps.catalogue(), datetime.now(UTC)
        parsed = parse(now)
        catalogue.watchable(table_of(parsed))
    except VaultError as exc:
        ack(response_type="ephemeral", text=str(exc))
        return None
    ack(response_type="ephemeral", **searching_message(table_of(parsed)).as_kwargs())
    return catalogue, now, parsed


def destination(
    deps: Context, table: str, command: dict[str, Any], now: datetime
) -> tuple[dict[str, str], str | None]:
    """The open incident's thread (and its ID) for this table, else the command's channel."""
    thread, incident_id = threads.for_table(deps, table, command["channel_id"], now)
    return thread.kwargs(), incident_id
