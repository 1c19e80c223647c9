"""Delivers the outbox to Slack, in order, retrying until Slack takes it.

The watcher never talks to Slack: it writes what must be said into the
state store in the same transaction that records the event. This loop sends
it. A failure (rate limit beyond the client's own retries, 5xx, network)
puts the message back with a backoff and stops the loop, so nothing behind
it overtakes it and nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.metrics import Metrics
from core.state.freezes import Freeze
from core.state.incidents import Incident
from core.state.outbox import OutboxItem
from core.state.store import StateStore
from usecases.context import Context
from usecases.render.alert import alert_message, growth_message

log = logging.getLogger(__name__)


def deliver_now(deps: Context, client: WebClient) -> int:
    """Send what is queued now instead of at the next tick (messages a click caused)."""
    channel = deps.settings.vault_alert_channel or ""
    return Deliverer(
        store=deps.store, client=client, channel=channel, metrics=deps.metrics
    ).deliver()


class Deliverer:
    def __init__(
        self, *, store: StateStore, client: WebClient, channel: str, metrics: Metrics | None = None
    ) -> None:
        self.metrics = metrics or Metrics()
        self.store = store
        self.client = client
        self.channel = channel
        self._failing = False

    def deliver(self, limit: int = 50) -> int:
        """Send up to ``limit`` queued messages; return how many went out."""
        sent = 0
        while sent < limit:
            item = self.store.outbox.claim_next()
            if item is None:
                break
            try:
                self._send(item)
            except (SlackApiError, SlackClientError, OSError) as exc:
                self._fail(item, exc)
                break
            sent += 1
            if self._failing:
                log.info("Slack is taking messages again")
                self._failing = False
        return sent

    def _fail(self, item: OutboxItem, exc: Exception) -> None:
        retry_in = float(min(2 ** (item.attempts + 1), 60))
        response = getattr(exc, "response", None)
        if response is not None and response.headers.get("retry-after"):
            retry_in = max(retry_in, float(response.headers["retry-after"]))
        reason = str(exc).splitlines()[0][:200]
        self.store.outbox.mark_failed(item, error=reason, retry_in=retry_in)
        level = logging.DEBUG if self._failing else logging.WARNING
        log.log(
            level, "Slack refused message %s (%s); retrying in %.0f s", item.id, reason, retry_in
        )
        self._failing = True

    def _freeze(self, incident: Incident) -> Freeze | None:
        return self.store.freezes.covering(source=incident.source, table=incident.table)

    def _send(self, item: OutboxItem) -> None:
        if item.kind == "message":  # a rendered message for a thread (restore outcomes)
            self.client.chat_postMessage(**item.payload)
            self.store.outbox.mark_sent(item)
            return
        assert item.incident_id is not None
        incident = self.store.incidents.get(item.incident_id)
        assert incident is not None, f"outbox item {item.id} names a missing incident"
        if item.kind == "incident_opened":
            message = alert_message(incident, self._freeze(incident))
            reply = self.client.chat_postMessage(channel=self.channel, **message.as_kwargs())
            self.store.alert_posted(item, channel=reply["channel"], root_ts=reply["ts"])
            self.store.audit.record(
                actor="flightvault",
                action="alert posted",
                incident_id=incident.id,
                detail=f"alert in {reply['channel']}",
            )
            self.metrics.alerts_posted.inc()
            latency = (datetime.now(UTC) - incident.first_instant).total_seconds()
            self.metrics.detection_latency.observe(max(latency, 0.0))
            return
        self.store.outbox.coalesce(item)
        incident = self.store.incidents.get(item.incident_id) or incident
        if incident.root_ts is None or incident.channel is None:
            raise SlackClientError("incident root message not posted yet")
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
                **alert_message(incident, self._freeze(incident)).as_kwargs(),
            )
        else:
            raise AssertionError(f"unknown outbox kind {item.kind!r}")
        self.store.outbox.mark_sent(item)
