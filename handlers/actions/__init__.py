"""Button clicks."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import Action, View
from handlers.actions import change, confirm, freeze, incident, restore, travel
from usecases.context import Context


def register(app: App, deps: Context) -> None:
    app.action(Action.FIND_RESTORE_POINT.value)(incident.on_find_restore_point(deps))
    app.action(Action.SHOW_FULL_DIFF.value)(incident.on_show_full_diff(deps))
    app.action(Action.TRAVEL_PREVIOUS.value)(travel.step(deps, forward=False))
    app.action(Action.TRAVEL_NEXT.value)(travel.step(deps, forward=True))
    app.action(Action.PREVIEW_RESTORE.value)(restore.on_preview(deps))
    app.action(Action.PREVIEW_TO_HERE.value)(restore.on_preview_to_here(deps))
    app.action(Action.REQUEST_RESTORE.value)(restore.on_decision(deps, "request"))
    app.action(Action.APPROVE_RESTORE.value)(
        confirm.on_approve(deps, restore.decision(deps, "approve"))
    )
    app.view(View.CONFIRM_RESTORE.value)(confirm.on_submit(deps))
    app.action(Action.CANCEL_RESTORE.value)(restore.on_decision(deps, "cancel"))
    app.action(Action.UNDO_RESTORE.value)(restore.on_undo(deps))
    app.action(Action.APPROVE_UNFREEZE.value)(freeze.on_unfreeze(deps, "approve"))
    app.action(Action.CANCEL_UNFREEZE.value)(freeze.on_unfreeze(deps, "cancel"))
    app.action(Action.APPROVE_CHANGE.value)(change.on_decision(deps, "approve"))
    app.action(Action.CANCEL_CHANGE.value)(change.on_decision(deps, "cancel"))
