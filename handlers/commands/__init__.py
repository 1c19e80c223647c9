"""``/vault``: one router, one small function per subcommand."""

from __future__ import annotations

from slack_bolt import App

from bot.commands import SLASH_COMMAND
from bot.deps import Deps
from handlers.commands import vault


def register(app: App, deps: Deps) -> None:
    app.command(SLASH_COMMAND)(vault.make_listener(deps))
