"""The ``/vault help`` and unknown-subcommand answers."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.commands import SUBCOMMANDS
from usecases.render import Message, escape_mrkdwn, render_template


def help_message(schema: str) -> Message:
    body = render_template("help.md.j2", schema=escape_mrkdwn(schema), subcommands=SUBCOMMANDS)
    block = SectionBlock(block_id="help", text=MarkdownTextObject(text=body))
    return Message(
        text="FlightVault commands: " + ", ".join(s.name for s in SUBCOMMANDS),
        blocks=[block.to_dict()],
    )


def unknown_subcommand(name: str) -> Message:
    shown = name if len(name) <= 40 else name[:37] + "..."
    return Message(text=render_template("unknown_subcommand.md.j2", name=escape_mrkdwn(shown)))


def error_message(sentence: str) -> Message:
    return Message(text=sentence)
