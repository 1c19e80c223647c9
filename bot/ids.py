"""Every Slack action ID FlightVault uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    FIND_RESTORE_POINT = "vault_find_restore_point"
    SHOW_FULL_DIFF = "vault_show_full_diff"
    TRAVEL_PREVIOUS = "vault_travel_previous"
    TRAVEL_NEXT = "vault_travel_next"
    PREVIEW_RESTORE = "vault_preview_restore"
    PREVIEW_TO_HERE = "vault_preview_to_here"
    REQUEST_RESTORE = "vault_request_restore"
    APPROVE_RESTORE = "vault_approve_restore"
    CANCEL_RESTORE = "vault_cancel_restore"
    UNDO_RESTORE = "vault_undo_restore"
    APPROVE_UNFREEZE = "vault_approve_unfreeze"
    CANCEL_UNFREEZE = "vault_cancel_unfreeze"
    APPROVE_CHANGE = "vault_approve_change"  # a schema change request: protect, retention
    CANCEL_CHANGE = "vault_cancel_change"


class View(StrEnum):
    """Callback IDs of modals."""

    CONFIRM_RESTORE = "vault_confirm_restore"
