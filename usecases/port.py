"""Where a use case's messages go, and the small port it says them through.

The use case decides *what* to say and in which ``Thread``; the port (Slack's
lives in ``handlers/slack_port.py``, the terminal's in ``bot/cli.py``) decides
how: a public message, an ephemeral one, a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.render import Message


@dataclass(frozen=True, slots=True)
class Thread:
    """A channel, and the root message of the thread in it (None: the channel itself)."""

    channel: str
    ts: str | None = None

    def kwargs(self) -> dict[str, str]:
        """``channel`` and ``thread_ts`` as ``chat.postMessage`` takes them."""
        return {"channel": self.channel, **({"thread_ts": self.ts} if self.ts else {})}


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the port showed, so it can be updated or taken back."""

    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    title: str
    content: bytes


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

    def upload(self, thread: Thread, upload: Upload) -> None:
        """A file (a picture, an export) in ``thread``."""
