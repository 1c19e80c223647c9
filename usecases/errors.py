"""The errors a use case raises on purpose, for the adapters above it: ``str(error)`` is the
sentence to show (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ConfigError, InvalidInput, VaultError, not_allowed, not_shown

__all__ = ["ConfigError", "InvalidInput", "VaultError", "not_allowed", "not_shown"]
