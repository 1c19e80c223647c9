"""Slack listeners: parse, call core, render, send. Nothing else lives here."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands
from usecases.context import Context


def register(app: App, deps: Context) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
