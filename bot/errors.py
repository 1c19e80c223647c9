"""Error IDs: the link between what a user sees and what the log holds."""

from __future__ import annotations

import logging
import secrets


def new_error_id() -> str:
    return "E-" + secrets.token_hex(3).upper()


def log_unexpected(logger: logging.Logger, what: str) -> str:
    """Log the exception being handled with a fresh ID, and return the ID."""
    ref = new_error_id()
    logger.exception("unexpected error %s while %s", ref, what)
    return ref


def unexpected_sentence(ref: str) -> str:
    return f"Something went wrong on our side (error {ref}); the details are in the bot's log."
