"""Prometheus metrics, in a registry of the running bot's own (nothing at import)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.alerts_posted = Counter(
            "flightvault_alerts_posted", "Incident alerts posted", registry=r
        )
        self.detection_latency = Histogram(
            "flightvault_detection_latency_seconds",
            "From the damaging statement's instant to its alert reaching Slack",
            buckets=SECONDS,
            registry=r,
        )
        self.finder_duration = Histogram(
            "flightvault_finder_duration_seconds",
            "Restore-point searches",
            buckets=SECONDS,
            registry=r,
        )
        self.restore_duration = Histogram(
            "flightvault_restore_duration_seconds",
            "Restores executed",
            buckets=SECONDS,
            registry=r,
        )
        self.refused_approvals = Counter(
            "flightvault_refused_clicks", "Request/approve/cancel clicks refused", registry=r
        )
        self.poll_errors = Counter("flightvault_poll_errors", "Failed watcher ticks", registry=r)
        self.dead_letters = Gauge(
            "flightvault_dead_letters", "Messages Slack refused for good", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
