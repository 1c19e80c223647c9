"""Slack listeners: parse, call core, render, send. Nothing else lives here."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from handlers import actions, commands


def register(app: App, deps: Deps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
