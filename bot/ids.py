"""Every Slack action ID FlightVault uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    FIND_RESTORE_POINT = "vault_find_restore_point"
    SHOW_FULL_DIFF = "vault_show_full_diff"
    TRAVEL_PREVIOUS = "vault_travel_previous"
    TRAVEL_NEXT = "vault_travel_next"
