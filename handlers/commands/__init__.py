"""``/vault``: one router, one small function per subcommand."""

from __future__ import annotations

from slack_bolt import App

from bot.commands import SLASH_COMMAND
from handlers.commands import vault
from usecases.context import Context


def register(app: App, deps: Context) -> None:
    app.command(SLASH_COMMAND)(vault.make_listener(deps))
