"""Button clicks."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.ids import Action
from handlers.actions import incident


def register(app: App, deps: Deps) -> None:
    app.action(Action.FIND_RESTORE_POINT.value)(incident.find_restore_point(deps))
    app.action(Action.SHOW_FULL_DIFF.value)(incident.show_full_diff(deps))
