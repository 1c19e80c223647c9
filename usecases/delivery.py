"""Delivers the outbox to Slack, in order per destination, retrying until Slack takes it
or refuses it for good.

The watcher never talks to Slack: it writes what must be said into the state
store in the same transaction that records the event. This loop sends it.

* Transient failures (rate limits, honouring ``Retry-After``; 5xx; timeouts;
  dropped connections) put the message back with a backoff: never dropped, and
  nothing in its lane overtakes it. Other lanes carry on.
* Permanent refusals (the channel or the root message is gone, the blocks are
  invalid…) stop retrying that message. Where a fallback exists it is used: a
  fresh root alert when the old one was deleted, the alert channel when a
  thread's channel is gone. Otherwise the message becomes a dead letter, shown in
  ``/vault status``, ``/metrics`` and ``/healthz``.
* Sending paces itself per channel (Slack takes about one message per second
  per channel, with short bursts).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.metrics import Metrics
from core.history_health import digest_kind
from core.state.digests import Posted
from core.state.freezes import Freeze
from core.state.incidents import Incident
from core.state.outbox import OutboxItem
from core.state.store import StateStore
from usecases.context import Context
from usecases.render import Message
from usecases.render.alert import alert_message, growth_message
from usecases.render.health import SEVERE, digest_message, joined_message, named

log = logging.getLogger(__name__)

PERMANENT = {
    "message_not_found",
    "thread_not_found",
    "cant_update_message",
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "too_many_attachments",
}
GONE_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived"}
GONE_MESSAGE = {"message_not_found", "thread_not_found", "cant_update_message"}
BURST, PER_SECOND = 10.0, 1.0  # per channel: a short burst, then about one a second


def deliver_now(deps: Context, client: WebClient) -> int:
    """Send what is queued now instead of at the next tick (messages a click caused)."""
    channel = deps.settings.vault_alert_channel or ""
    return Deliverer(
        store=deps.store,
        client=client,
        channel=channel,
        metrics=deps.metrics,
        name_schemas=deps.several,
    ).deliver()


class Deliverer:
    def __init__(
        self,
        *,
        store: StateStore,
        client: WebClient,
        channel: str,
        metrics: Metrics | None = None,
        name_schemas: bool = False,
    ) -> None:
        """``name_schemas``: several schemas are watched, so alerts say which one."""
        self.metrics = metrics or Metrics()
        self.name_schemas = name_schemas
        self.store = store
        self.client = client
        self.channel = channel
        self._failing: set[str] = set()  # lanes whose last attempt failed
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def deliver(self, limit: int = 50) -> int:
        """Send up to ``limit`` queued messages; return how many went out."""
        sent = 0
        paced: set[str] = set()
        for _ in range(limit):
            item = self.store.outbox.claim_next(skip=paced)
            if item is None:
                break
            if not self._take(self._channel_of(item)):
                self.store.outbox.release(item)
                paced.add(item.lane)
                continue
            outcome = self._attempt(item)
            if outcome == "retry":  # Slack is struggling: the next tick tries again
                break
            sent += outcome == "sent"
        return sent

    def _attempt(self, item: OutboxItem) -> str:
        """ "sent", "dead" (refused for good) or "retry"."""
        try:
            self._send(item)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in PERMANENT:
                self._dead(item, error)
                return "dead"
            self._retry(item, exc)
            return "retry"
        except (SlackClientError, OSError) as exc:
            self._retry(item, exc)
            return "retry"
        if item.lane in self._failing:
            log.info("Slack is taking messages for %s again", item.lane)
            self._failing.discard(item.lane)
        return "sent"

    def _retry(self, item: OutboxItem, exc: Exception) -> None:
        retry_in = float(min(2 ** (item.attempts + 1), 60))
        response = getattr(exc, "response", None)
        if response is not None and response.headers.get("retry-after"):
            retry_in = max(retry_in, float(response.headers["retry-after"]))
        reason = str(exc).splitlines()[0][:200]
        self.store.outbox.mark_failed(item, error=reason, retry_in=retry_in)
        if item.lane not in self._failing:
            log.warning(
                "Slack refused message %s (%s); retrying in %.0f s", item.id, reason, retry_in
            )
        self._failing.add(item.lane)

    def _dead(self, item: OutboxItem, error: str) -> None:
        self.store.outbox.mark_dead(item, error=error)
        self.metrics.dead_letters.set(self.store.outbox.dead_count())  # not per tick: on change
        log.warning("message %s (%s) undeliverable: Slack said %s", item.id, item.kind, error)

    def _take(self, channel: str) -> bool:
        """A token from the channel's bucket, if one is left."""
        now = time.monotonic()
        tokens, at = self._buckets.get(channel, (BURST, now))
        tokens = min(BURST, tokens + (now - at) * PER_SECOND)
        if tokens < 1:
            self._buckets[channel] = (tokens, now)
            return False
        self._buckets[channel] = (tokens - 1, now)
        return True

    def _channel_of(self, item: OutboxItem) -> str:
        if item.kind in ("message", "digest"):
            return str(item.payload.get("channel") or self.channel)
        return self.channel

    def _alert(self, incident: Incident) -> Message:
        schema = incident.source.rsplit("/", 1)[-1] if self.name_schemas else None
        return alert_message(incident, self._freeze(incident), schema=schema)

    def _freeze(self, incident: Incident) -> Freeze | None:
        return self.store.freezes.covering(source=incident.source, table=incident.table)

    # ------------------------------------------------------------------ sending
    def _send(self, item: OutboxItem) -> None:
        if item.kind == "message":  # a rendered message for a thread (restore outcomes)
            self._message(item)
            return
        if item.kind == "digest":  # one message per kind of standing condition
            self._digest(item)
            return
        assert item.incident_id is not None
        incident = self.store.incidents.get(item.incident_id)
        assert incident is not None, f"outbox item {item.id} names a missing incident"
        if item.kind == "incident_opened":
            self._post_root(item, incident)
            return
        self.store.outbox.coalesce(item)
        incident = self.store.incidents.get(item.incident_id) or incident
        if incident.root_ts is None or incident.channel is None:
            raise SlackClientError("incident root message not posted yet")
        try:
            if item.kind == "incident_grew":
                self.client.chat_postMessage(
                    channel=incident.channel,
                    thread_ts=incident.root_ts,
                    **growth_message(incident).as_kwargs(),
                )
            elif item.kind == "root_update":
                self.client.chat_update(
                    channel=incident.channel,
                    ts=incident.root_ts,
                    **self._alert(incident).as_kwargs(),
                )
            else:
                raise AssertionError(f"unknown outbox kind {item.kind!r}")
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error not in GONE_MESSAGE | GONE_CHANNEL:
                raise
            log.warning(
                "the alert of incident %s is gone (%s): posting it afresh", incident.id, error
            )
            self._post_root(item, incident, note=error)  # the fresh root shows the current state
            return
        self.store.outbox.mark_sent(item)

    def _post_root(self, item: OutboxItem, incident: Incident, note: str = "") -> None:
        message = self._alert(incident)
        reply = self.client.chat_postMessage(channel=self.channel, **message.as_kwargs())
        self.store.alert_posted(item, channel=reply["channel"], root_ts=reply["ts"])
        self.store.audit.record(
            actor="flightvault",
            action="alert posted",
            incident_id=incident.id,
            detail=f"alert in {reply['channel']}"
            + (f" (again: the old one was {note})" if note else ""),
        )
        if not note:
            self.metrics.alerts_posted.inc()
            latency = (datetime.now(UTC) - incident.first_instant).total_seconds()
            self.metrics.detection_latency.observe(max(latency, 0.0))

    def _digest(self, item: OutboxItem) -> None:
        """Post the digest, or edit it in place; once it is all clear, forget it, so the next
        occurrence posts (and notifies) afresh. Rendered from the conditions active now.
        Slack does not notify on an edit, so conditions that joined since the last rendering
        are also named in one reply under it (broadcast to the channel for severe kinds);
        leaving is a silent edit."""
        self.store.outbox.coalesce_lane(item)
        source, kind = str(item.payload["source"]), str(item.payload["kind"])
        members = item.payload.get("members") or [["", source]]
        entries = {
            (str(prefix), key): named(prefix, detail)
            for prefix, member in members
            for key, detail in sorted(self.store.conditions.active(source=member).items())
            if digest_kind(key) == kind
        }
        lines = list(entries.values())
        message = digest_message(kind, lines).as_kwargs()
        posted = self.store.digests.posted(source=source, kind=kind)
        if posted is not None:
            try:
                self.client.chat_update(channel=posted.channel, ts=posted.ts, **message)
            except SlackApiError as exc:
                if str(exc.response.get("error") or "") not in GONE_MESSAGE | GONE_CHANNEL:
                    raise
                posted = None  # deleted by someone: post it afresh if there is news
            else:
                if not lines:
                    self.store.digests.forget(source=source, kind=kind)
                else:
                    self._joined(kind, posted, entries)
        if posted is None and lines:
            channel = str(item.payload.get("channel") or self.channel)
            reply = self.client.chat_postMessage(channel=channel, **message)
            posted = Posted(reply["channel"], reply["ts"])
        if posted is not None and lines:
            self.store.digests.remember(
                source=source, kind=kind, channel=posted.channel, ts=posted.ts, listed=entries
            )
        self.store.outbox.mark_sent(item)

    def _joined(self, kind: str, posted: Posted, entries: dict[tuple[str, str], str]) -> None:
        """One reply under the edited digest naming what joined it since it was last
        rendered, never one per table. Unknown last rendering (an older store): no reply."""
        if posted.listed is None:
            return
        joined = [line for pair, line in entries.items() if pair not in posted.listed]
        if not joined:
            return
        self.client.chat_postMessage(
            channel=posted.channel,
            thread_ts=posted.ts,
            reply_broadcast=kind in SEVERE,
            **joined_message(kind, joined).as_kwargs(),
        )

    def _message(self, item: OutboxItem) -> None:
        try:
            self.client.chat_postMessage(**item.payload)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            channel = item.payload.get("channel")
            if error in GONE_CHANNEL and channel and channel != self.channel:
                moved = {k: v for k, v in item.payload.items() if k != "thread_ts"}
                moved["channel"] = self.channel
                self.client.chat_postMessage(**moved)  # the alert channel is the fallback
            elif error in GONE_MESSAGE and item.payload.get("thread_ts"):
                alone = {k: v for k, v in item.payload.items() if k != "thread_ts"}
                self.client.chat_postMessage(**alone)  # the thread's root is gone
            else:
                raise
        self.store.outbox.mark_sent(item)
