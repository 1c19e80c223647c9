"""Where a conversation's messages go: a channel, and the root of the thread in it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thread:
    """A channel, and the root message of the thread in it (None: the channel itself)."""

    channel: str
    ts: str | None = None

    def kwargs(self) -> dict[str, str]:
        """``channel`` and ``thread_ts`` as ``chat.postMessage`` takes them."""
        return {"channel": self.channel, **({"thread_ts": self.ts} if self.ts else {})}
