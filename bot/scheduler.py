"""The background loop: watch, then deliver, one tick at a time.

APScheduler runs ``tick`` every probe interval with ``max_instances=1`` and
``coalesce=True``: a slow tick delays the next instead of stacking. A tick
never raises into the scheduler; a failing database is retried with
exponential backoff and logged once when it starts failing and once when it
recovers. Several processes may run this loop: only the lease holder
watches, every process delivers (claims make each message go out once).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import socket
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from bot.errors import log_unexpected
from bot.metrics import Metrics
from core.state.store import StateStore
from core.watcher import PollReport, Watcher
from usecases.delivery import Deliverer

log = logging.getLogger(__name__)
LEASE = "watcher"  # prefix: each deployment's lease is named after what it watches
LEASE_TTL = 10.0
MAX_BACKOFF = 30.0
SWEEP_EVERY = 5.0  # seconds between looks for restores interrupted by a dead process
JOBS_EVERY = 1.0  # seconds between looks for due reminders and expiries


@dataclass
class Chore:
    """Leader-only work on its own cadence. ``background`` chores (drills, health checks:
    seconds of queries) run on a worker thread so they never delay the watcher's tick; a
    chore still running when it is due again is skipped, not stacked."""

    name: str
    every: float
    run: Callable[[], object]
    background: bool = False
    next_at: float = 0.0
    running: Future[object] | None = field(default=None, repr=False)


def lease_for(source: str) -> str:
    """The watcher lease of the deployment whose default schema is ``source``
    (``host:port/db``): replicas of one deployment share it, so exactly one of them watches,
    while deployments watching other servers or schemas, sharing the state store, each lead
    their own. Hashed when it would not fit the lease's key."""
    name = f"{LEASE}:{source}"
    return name if len(name) <= 191 else f"{LEASE}:{hashlib.sha256(source.encode()).hexdigest()}"


class Watchers:
    """Several schemas' watchers ticked as one, in turn: each keeps its own source (and so
    its own watermark, events and incidents); the report adds theirs up."""

    def __init__(self, watchers: list[Watcher]) -> None:
        self.watchers = watchers
        self._failing: set[str] = set()  # sources whose last tick failed (logged once)

    def tick(self) -> PollReport:
        """One schema failing (dropped, a grant revoked) must not stop the others: it is
        logged when it starts and stops failing; only when every schema fails does the
        loop back off."""
        reports = []
        for watcher in self.watchers:
            try:
                reports.append(watcher.tick())
            except Exception:
                if watcher.source not in self._failing:
                    log_unexpected(log, f"watching {watcher.source}")
                self._failing.add(watcher.source)
                continue
            if watcher.source in self._failing:
                self._failing.discard(watcher.source)
                log.info("watching %s again", watcher.source)
        if not reports:
            raise RuntimeError("every watched schema failed")
        return PollReport(
            full_read=any(r.full_read for r in reports),
            events=sum(r.events for r in reports),
            opened=tuple(i for r in reports for i in r.opened),
            grew=tuple(i for r in reports for i in r.grew),
            seconds=sum(r.seconds for r in reports),
        )


class WatchLoop:
    def __init__(
        self,
        *,
        watcher: Watcher | Watchers,
        deliverer: Deliverer,
        store: StateStore,
        probe_interval: float,
        metrics: Metrics | None = None,
        lease_ttl: float = LEASE_TTL,
        lease: str = LEASE,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.lease_ttl = lease_ttl
        self.lease = lease
        self.watcher = watcher
        self.deliverer = deliverer
        self.store = store
        self.probe_interval = probe_interval
        self.holder = f"{socket.gethostname()}:{secrets.token_hex(4)}"
        self.last_report: PollReport | None = None
        self.chores: list[Chore] = []
        self.workers: Executor | None = None  # runs background chores
        self._lease_until = 0.0
        self._next_lease_try = 0.0
        self._failures = 0
        self._retry_at = 0.0
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        quiet = logging.getLogger("flightvault.apscheduler")
        quiet.setLevel(logging.ERROR)  # "skipped: maximum number of running instances" is by design
        self._scheduler = BackgroundScheduler(timezone=UTC, logger=quiet)
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.probe_interval,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id="watch",
            misfire_grace_time=None,
        )
        self._scheduler.start()

    def nudge(self) -> None:
        """Tick now instead of at the next interval (the replication stream saw a write).
        A nudge while a tick runs is dropped; the woken tables wait for the next tick."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        with contextlib.suppress(JobLookupError):  # shutting down
            scheduler.modify_job("watch", next_run_time=datetime.now(UTC))

    @property
    def leader(self) -> bool:
        return time.monotonic() < self._lease_until

    def halt(self) -> None:
        """Stop ticking without releasing the lease: how a crashed replica looks to the others."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self._lease_until = 0.0

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if self._lease_until:
            self.store.leases.release(name=self.lease, holder=self.holder)

    def tick(self) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            return
        try:
            if self._leader(now):
                self.last_report = self.watcher.tick()
                self._chores(now)
            self.deliverer.deliver()
        except Exception:
            self._failed()
            return
        if self._failures:
            log.info("watcher recovered after %d failed attempts", self._failures)
        self._failures = 0

    def _chores(self, now: float) -> None:
        for chore in self.chores:
            if now < chore.next_at or (chore.running is not None and not chore.running.done()):
                continue
            chore.next_at = now + chore.every
            if chore.background and self.workers is not None:
                chore.running = self.workers.submit(self._quietly, chore)
            else:
                chore.run()

    @staticmethod
    def _quietly(chore: Chore) -> None:
        try:
            chore.run()
        except Exception:
            log_unexpected(log, f"running the {chore.name} chore")

    def _leader(self, now: float) -> bool:
        if now < self._lease_until - self.lease_ttl / 2:
            return True
        if now < self._next_lease_try and not self._lease_until:
            return False
        self._next_lease_try = now + 1.0
        if self.store.leases.try_take(name=self.lease, holder=self.holder, ttl=self.lease_ttl):
            self._lease_until = now + self.lease_ttl
            return True
        self._lease_until = 0.0
        return False

    def _failed(self) -> None:
        self.metrics.poll_errors.inc()
        self._failures += 1
        delay = min(self.probe_interval * 2**self._failures, MAX_BACKOFF)
        self._retry_at = time.monotonic() + delay
        self._lease_until = 0.0
        if self._failures == 1:
            ref = log_unexpected(log, "watching the database")
            log.error("watcher failing (%s); retrying with backoff up to %.0f s", ref, MAX_BACKOFF)
        else:
            log.debug("watcher still failing (attempt %d)", self._failures, exc_info=True)
