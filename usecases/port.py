"""Where a use case's messages go, and the small port it says them through.

The use case decides *what* to say and in which ``Thread``; the port (Slack's
lives in ``handlers/slack_port.py``, the terminal's in ``bot/cli.py``) decides
how: a public message, an ephemeral one, a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import VaultError
from core.thread import Thread
from usecases.render import Message

__all__ = ["NotInChannel", "Port", "Posted", "Thread", "Undelivered", "Upload"]


class Undelivered(Exception):
    """The port could not say it now (Slack down, message deleted); best-effort callers
    carry on, the state store keeps the truth."""


class NotInChannel(Undelivered, VaultError):
    """The bot is not a member of the channel it was asked to answer in."""

    def __init__(self) -> None:
        super().__init__(
            "I'm not in this channel, so I can't answer here: invite me with "
            "`/invite @FlightVault`, or ask in the incident channel."
        )


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the port showed, so it can be updated or taken back."""

    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Upload:
    """A file to show: its bytes, or a path on disk (large exports)."""

    filename: str
    title: str
    content: bytes | str | None = None
    path: str | None = None

    def entry(self) -> dict[str, Any]:
        """As ``files_upload_v2`` takes one file."""
        body = {"content": self.content} if self.path is None else {"file": self.path}
        return {"filename": self.filename, "title": self.title, **body}


class Port(Protocol):
    def post(self, thread: Thread, message: Message) -> Posted:
        """Say ``message`` publicly in ``thread``."""

    def update(self, posted: Posted, message: Message) -> None:
        """Replace a message shown earlier."""

    def tell(self, message: Message) -> None:
        """Say ``message`` privately to the person who acted."""

    def working(self, thread: Thread, message: Message) -> Posted | None:
        """Show that slow work began; None when the person already sees it."""

    def finish(self, thread: Thread, note: Posted | None, message: Message) -> Posted:
        """Replace the working note with the answer (or post the answer, and drop the note)."""

    def abandon(self, note: Posted | None) -> None:
        """Take the working note back: the work failed and its sentence says why."""

    def upload(self, thread: Thread, *uploads: Upload, comment: str | None = None) -> None:
        """Files (a picture, exports) in ``thread``, with an optional comment."""

    def flush(self) -> None:
        """Deliver what the use case queued in the outbox now, not at the next tick."""
