"""The ``/vault`` subcommands FlightVault answers: one list for help, routing and tests."""

from __future__ import annotations

from dataclasses import dataclass

SLASH_COMMAND = "/vault"


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    example: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", "/vault help", "List every subcommand with an example.", "/vault help"),
)

BY_NAME = {s.name: s for s in SUBCOMMANDS}


def split_command(text: str) -> tuple[str, list[str]]:
    """``"find airports since 2h"`` -> ``("find", ["airports", "since", "2h"])``."""
    words = text.split()
    if not words:
        return "help", []
    return words[0].lower(), words[1:]
