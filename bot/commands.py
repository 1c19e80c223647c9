"""The ``/vault`` subcommands: one list for help, routing and tests, and their argument grammar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import InvalidInput
from core.timeparse import parse_duration, parse_instant
from usecases.find import FindRequest

SLASH_COMMAND = "/vault"
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    example: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", "/vault help", "List every subcommand with an example.", "/vault help"),
    Subcommand(
        "find",
        "/vault find <table> [since <duration|time>] [before <time>] [check count|fk|<column>]",
        "Name the restore point: the last healthy instant before the damage.",
        "/vault find airports since 6h",
    ),
    Subcommand(
        "at",
        "/vault at <table> <time>",
        "Time travel: the table at that instant, and what changed since.",
        "/vault at airports 15m ago",
    ),
    Subcommand(
        "status",
        "/vault status",
        "Watched tables and their history, open incidents, pending plans, last read.",
        "/vault status",
    ),
    Subcommand(
        "dismiss",
        "/vault dismiss <incident> [reason]",
        "Close an incident as a false alarm (recorded in the audit).",
        "/vault dismiss 240475df nightly purge",
    ),
    Subcommand(
        "watch",
        "/vault watch|unwatch <table>",
        "Start or stop watching a table (approvers only).",
        "/vault unwatch audit_log",
    ),
    Subcommand(
        "freeze",
        "/vault freeze <table>|database",
        "Stop further writes by other accounts now (one approver); restores still run.",
        "/vault freeze airports",
    ),
    Subcommand(
        "unfreeze",
        "/vault unfreeze <table>|database",
        "Ask to lift a freeze; a second approver confirms with a button.",
        "/vault unfreeze airports",
    ),
    Subcommand(
        "drill",
        "/vault drill <table> [at <time>]",
        "Rehearse a restore back to that time (default 1 h ago): run, validate, roll back.",
        "/vault drill airports at 30m ago",
    ),
    Subcommand(
        "protect",
        "/vault protect <table>",
        "Make a table system-versioned: preview the ALTER, its size and lock time; two people.",
        "/vault protect orders",
    ),
    Subcommand(
        "retention",
        "/vault retention <table> <duration>",
        "Keep that much history (at least VAULT_HISTORY_MIN): pruned on approval, then every "
        "VAULT_RETENTION_INTERVAL; two people.",
        "/vault retention airports 30d",
    ),
    Subcommand(
        "report",
        "/vault report [incident]",
        "Postmortem in Markdown from the audit trail, uploaded to the incident's thread.",
        "/vault report 240475df",
    ),
    Subcommand(
        "audit",
        "/vault audit [incident]",
        "Every request, approval, refusal, cancellation and restore, with who and when.",
        "/vault audit",
    ),
)

BY_NAME = {s.name: s for s in SUBCOMMANDS}
KEYWORDS = ("since", "before", "check")


def split_command(text: str) -> tuple[str, list[str]]:
    """``"find airports since 2h"`` -> ``("find", ["airports", "since", "2h"])``."""
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"That command is over {MAX_TEXT} characters; `/vault help` shows the forms."
        )
    words = text.split()
    if not words:
        return "help", []
    return words[0].lower(), words[1:]


def parse_find(words: Sequence[str], *, now: datetime) -> FindRequest:
    """``<table> [since X] [before Y] [check Z]``; options in any order, once each."""
    if not words or words[0].lower() in KEYWORDS:
        raise InvalidInput("Name a table: `/vault find <table> [since 6h] [before <time>]`.")
    options: dict[str, list[str]] = {}
    current: list[str] | None = None
    for word in words[1:]:
        key = word.lower()
        if key in KEYWORDS:
            if key in options:
                raise InvalidInput(f"`{key}` appears twice; give it once.")
            current = options[key] = []
        elif current is None:
            raise InvalidInput(
                f"I don't understand `{word[:40]}`; "
                "after the table use `since`, `before` or `check`."
            )
        else:
            current.append(word)
    for key, value in options.items():
        if not value:
            raise InvalidInput(f"`{key}` needs a value, e.g. `{key} {_example(key)}`.")
    since = None
    if "since" in options:
        since = _since(" ".join(options["since"]), now)
    before = parse_instant(" ".join(options["before"]), now=now) if "before" in options else None
    for label, instant in (("since", since), ("before", before)):
        if instant is not None and instant > now:
            raise InvalidInput(f"`{label}` is in the future; the history ends now.")
    check = " ".join(options["check"]) if "check" in options else None
    return FindRequest(words[0], since, before, check)


def parse_at(words: Sequence[str], *, now: datetime) -> tuple[str, datetime]:
    if len(words) < 2:
        raise InvalidInput("Give a table and a time: `/vault at airports 15m ago`.")
    instant = parse_instant(" ".join(words[1:]), now=now)
    if instant > now:
        raise InvalidInput("That time is in the future; the history ends now.")
    return words[0], instant


def parse_drill(words: Sequence[str], *, now: datetime, window: timedelta) -> tuple[str, datetime]:
    """``<table> [at <time>]``; without ``at``, ``window`` back from now."""
    if not words or words[0].lower() == "at":
        raise InvalidInput("Name a table: `/vault drill airports [at 30m ago]`.")
    if len(words) == 1:
        return words[0], now - window
    if words[1].lower() != "at" or len(words) < 3:
        raise InvalidInput(
            f"I don't understand `{words[1][:40]}`; use `/vault drill {words[0][:64]} at 30m ago`."
        )
    instant = parse_instant(" ".join(words[2:]), now=now)
    if instant > now:
        raise InvalidInput("That time is in the future; a drill restores to a past instant.")
    return words[0], instant


def _since(text: str, now: datetime) -> datetime:
    """``since 6h`` is a duration back from now; ``since <time>`` an instant."""
    try:
        return now - parse_duration(text)
    except InvalidInput:
        return parse_instant(text, now=now)


def _example(key: str) -> str:
    return {"since": "6h", "before": "2026-11-22 14:00", "check": "count"}[key]


NAME_MAX = 64  # MariaDB's longest schema or table name
RETENTION_LONGEST = timedelta(days=3653)  # ten years: longer keeps everything in practice


def parse_table(word: str) -> str:
    """A table name as the user typed it: the one place names are read from text (the
    catalogue then decides whether it exists; it is never spliced into SQL). A name too
    long to exist is refused, never cut: a cut name could be another, real table, and
    protect and retention run DDL on what it names."""
    name = word.strip()
    schema, dot, table = name.partition(".")
    if len(name) > NAME_MAX and not (dot and len(schema) <= NAME_MAX >= len(table)):
        shown = name[:40] + "…"
        raise InvalidInput(
            f"`{shown}` is longer than a table name can be ({NAME_MAX} characters, "
            "or schema.table with 64 each); nothing changed."
        )
    return name


def parse_protect(words: Sequence[str]) -> str:
    if len(words) != 1:
        raise InvalidInput("Name one table: `/vault protect orders`.")
    return parse_table(words[0])


def parse_retention(words: Sequence[str]) -> tuple[str, timedelta]:
    if len(words) < 2:
        raise InvalidInput(
            "Give a table and how long to keep its history: `/vault retention airports 30d`."
        )
    keep = parse_duration(
        " ".join(words[1:]),
        longest=RETENTION_LONGEST,
        too_long="A retention is at most 10 years (`3650d`); to keep all history, set none.",
    )
    return parse_table(words[0]), keep
