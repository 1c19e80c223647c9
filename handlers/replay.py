"""A signed request is processed once: the same signature seen again within Slack's
five-minute window is a replay, refused before any listener runs.

Bolt checks the signature and the timestamp's age; it does not remember what it
has seen, so a captured request could be sent again for five minutes. Signatures
are remembered per process (each replica refuses what it has seen).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse

WINDOW = 6 * 60.0  # a little past Slack's five minutes: older requests fail the timestamp check


class ReplayGuard:
    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {s: t for s, t in self._seen.items() if now - t < self.window}
            seen = self._seen.get(signature)
            if seen is not None and now - seen < self.window:
                return False
            self._seen[signature] = now
            return True

    def __call__(self, request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        signature = (request.headers.get("x-slack-signature") or [None])[0]
        if signature and not self.first_time(signature):
            return BoltResponse(status=401, body="This request was already received.")
        return next()
