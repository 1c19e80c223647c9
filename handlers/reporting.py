"""Answering failures that happen after the ack.

Bolt (1.x, threaded mode) resets a listener's ack when the listener raises
after calling ``ack()`` and then answers Slack with a 404 three seconds
later; so work done after the ack reports its own failures: a ``VaultError``
as its sentence, anything else as an error ID, always privately.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import log_unexpected, unexpected_sentence
from handlers.authz import decide
from usecases.context import Context
from usecases.errors import VaultError

log = logging.getLogger(__name__)


def sentence(exc: VaultError) -> str:
    """The error's sentence as Slack shows it: the people it names as mentions."""
    text = str(exc)
    for person in exc.people:
        if person:
            text = re.sub(rf"(?<![\w@]){re.escape(person)}(?!\w)", f"<@{person}>", text)
    return text


@contextmanager
def reported(respond: Respond, *, what: str, replace: bool = False) -> Iterator[None]:
    """``replace=True`` for slash commands: the sentence replaces their "Searching…"."""
    try:
        yield
    except VaultError as exc:
        respond(text=sentence(exc), response_type="ephemeral", replace_original=replace)
    except Exception:
        ref = log_unexpected(log, what)
        respond(text=unexpected_sentence(ref), response_type="ephemeral", replace_original=replace)


Work = Callable[[dict[str, Any], WebClient], None]


def deferred(respond: Respond) -> Callable[..., None]:
    """An ``ack`` for a listener that runs after the real ack: what it would have said in
    the ack replaces the placeholder the person sees."""

    def ack(**kwargs: Any) -> None:
        if kwargs:
            respond(replace_original=True, **kwargs)

    return ack


def after_ack(ctx: Context, workers: Executor, what: str, work: Work) -> Callable[..., None]:
    """A button listener: ack at once, then, on a worker thread, the policy for the button
    (``handlers.authz``; it may ask Slack) and ``work(body, client)``.

    Handing the work off keeps Bolt's listener threads free to ack the next
    requests within Slack's 3 seconds, however slow the work is.
    """

    def allowed(body: dict[str, Any], client: WebClient) -> None:
        action = (body.get("actions") or [{}])[0].get("action_id", "")
        refusal = decide(ctx, client, body["user"]["id"], action, ask=True)
        if isinstance(refusal, str):
            raise VaultError(refusal)
        work(body, client)

    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        hand_off(workers, respond, what, allowed, body, client)

    return listener


def hand_off(
    workers: Executor,
    respond: Respond,
    what: str,
    work: Work,
    body: dict[str, Any],
    client: WebClient,
) -> None:
    """Run ``work(body, client)`` on a worker thread; for a listener that has acked already."""
    workers.submit(run_reported, respond, what, work, body, client)


def run_reported(
    respond: Respond, what: str, work: Callable[..., None], *args: Any, replace: bool = False
) -> None:
    with reported(respond, what=what, replace=replace):
        work(*args)
