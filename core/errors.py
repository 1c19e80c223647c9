"""The exceptions FlightVault raises on purpose.

Every ``VaultError`` carries a message written for the person at the keyboard:
one sentence saying what went wrong and what to do. Handlers and the CLI show
that message as-is; anything that is *not* a ``VaultError`` is a bug and is
reported with an error ID instead.
"""

from __future__ import annotations


class VaultError(Exception):
    """Base class: ``str(error)`` is safe to show to a user.

    ``people``: the user IDs the sentence names, so a chat adapter can show them as
    mentions; core itself writes them plainly."""

    def __init__(self, *args: object, people: tuple[str, ...] = ()) -> None:
        super().__init__(*args)
        self.people = people


def not_allowed(what: str) -> str:
    """The one wording for someone outside VAULT_APPROVERS, whatever they tried."""
    return f"Only people listed in VAULT_APPROVERS can {what}. Nothing changed."


def not_shown(what: str, *, guest: bool = False) -> str:
    """The one wording for someone who may not see the database's rows."""
    if guest:
        return f"Guest accounts cannot {what}: FlightVault's answers show the database's rows."
    return f"Only people listed in VAULT_VIEWERS or VAULT_APPROVERS can {what}."


class ConfigError(VaultError):
    """A setting is missing or invalid; start-up stops (exit code 2)."""


class DatabaseUnavailable(VaultError):
    """The watched database cannot be reached or refused the login."""


class InsufficientPrivilege(VaultError):
    """The database account lacks a privilege FlightVault needs."""


class UnknownTable(VaultError):
    """The user named a table the catalogue does not know."""


class UnwatchableTable(VaultError):
    """The table exists but cannot be watched (no versioning, no row identity)."""


class InvalidInput(VaultError):
    """User input (a time, a duration, an option) could not be understood."""


class DemoDataRefused(VaultError):
    """``seed-demo`` will not write into a database that holds other tables."""
