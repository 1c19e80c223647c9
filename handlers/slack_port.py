"""The use cases' port, spoken over Slack's Web API and the interaction's response URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from usecases.context import Context
from usecases.delivery import deliver_now
from usecases.port import NotInChannel, Posted, Thread, Undelivered, Upload
from usecases.render import Message

ABSENT = {"not_in_channel", "channel_not_found", "is_archived"}


@contextmanager
def _delivered() -> Iterator[None]:
    """Slack's failures as the port's: a channel we cannot post in is the user's to fix
    (a sentence), anything else is the delivery's (best-effort callers carry on)."""
    try:
        yield
    except SlackApiError as exc:
        if exc.response.get("error") in ABSENT:
            raise NotInChannel() from exc
        raise Undelivered(str(exc)) from exc
    except (SlackClientError, OSError) as exc:
        raise Undelivered(str(exc)) from exc


class SlackPort:
    """``slash=True``: the person already sees an ephemeral "working" note (the command's
    ack), which the answer deletes and a failure's sentence replaces."""

    def __init__(
        self,
        client: WebClient,
        respond: Respond | None = None,
        *,
        slash: bool = False,
        deliver: Callable[[], object] | None = None,
    ) -> None:
        self.client, self.respond, self.slash = client, respond, slash
        self.deliver = deliver

    @classmethod
    def of(
        cls, ctx: Context, client: WebClient, respond: Respond | None = None, *, slash: bool = False
    ) -> SlackPort:
        return cls(client, respond, slash=slash, deliver=lambda: deliver_now(ctx, client))

    def post(self, thread: Thread, message: Message) -> Posted:
        with _delivered():
            posted = self.client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.ts, **message.as_kwargs()
            )
        return Posted(posted["channel"], posted["ts"])

    def update(self, posted: Posted, message: Message) -> None:
        with _delivered():
            self.client.chat_update(channel=posted.channel, ts=posted.ts, **message.as_kwargs())

    def tell(self, message: Message) -> None:
        assert self.respond is not None, "a private answer needs the interaction's response URL"
        self.respond(response_type="ephemeral", replace_original=self.slash, **message.as_kwargs())

    def working(self, thread: Thread, message: Message) -> Posted | None:
        return None if self.slash else self.post(thread, message)

    def finish(self, thread: Thread, note: Posted | None, message: Message) -> Posted:
        if note is not None:
            self.update(note, message)
            return note
        posted = self.post(thread, message)
        if self.slash and self.respond is not None:
            self.respond(delete_original=True)
        return posted

    def abandon(self, note: Posted | None) -> None:
        if note is not None:
            with _delivered():
                self.client.chat_delete(channel=note.channel, ts=note.ts)

    def upload(self, thread: Thread, *uploads: Upload, comment: str | None = None) -> None:
        files = [u.entry() for u in uploads]
        if not files:
            return
        one = files[0] if len(files) == 1 else {"file_uploads": files}
        extra = {"initial_comment": comment} if comment else {}
        with _delivered():
            self.client.files_upload_v2(channel=thread.channel, thread_ts=thread.ts, **one, **extra)

    def flush(self) -> None:
        if self.deliver is not None:
            self.deliver()
