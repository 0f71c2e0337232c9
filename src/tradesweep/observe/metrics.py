"""Prometheus metrics, on a registry the caller owns.

Nothing is registered at import: :class:`Metrics` defines every metric on the
``CollectorRegistry`` it is given (or a new one), so a process, a test or each app built by a
factory has its own. The API exposes :meth:`Metrics.exposition` at ``/metrics``; the API,
workers and webhook dispatcher call the small recording methods below. Names and labels are
listed in docs/observability.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_log = logging.getLogger(__name__)

PREFIX = "tradesweep"
JOB_STATUSES = ("completed", "failed", "cancelled")
WEBHOOK_OUTCOMES = ("delivered", "gone", "retry", "failed", "refused", "deferred")
BREAKER_STATES = ("closed", "open", "half_open")

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
WEBHOOK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

QueueStats = Mapping[str, int]
"""``{"queue_depth": n, "running": n, "workers": n}``, as ``JobRepository.stats()`` returns."""


class Metrics:
    """Every tradesweep metric, registered on ``registry`` (a new one when None).

    ``queue_stats``, when given, is called at each scrape for the queue depth, running jobs
    and live workers gauges (e.g. a function running ``JobRepository(session).stats()``);
    without it the gauges hold what :meth:`set_queue_stats` last set.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        queue_stats: Callable[[], QueueStats] | None = None,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_request_duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.jobs_submitted = Counter(
            f"{PREFIX}_jobs_submitted", "Jobs accepted, by type.", ["type"], registry=r
        )
        self.jobs_completed = Counter(
            f"{PREFIX}_jobs_completed", "Jobs that completed, by type.", ["type"], registry=r
        )
        self.jobs_failed = Counter(
            f"{PREFIX}_jobs_failed", "Jobs that failed for good, by type.", ["type"], registry=r
        )
        self.jobs_cancelled = Counter(
            f"{PREFIX}_jobs_cancelled", "Jobs cancelled, by type.", ["type"], registry=r
        )
        self.job_duration = Histogram(
            f"{PREFIX}_job_duration_seconds",
            "Run time of finished jobs, by type and final status.",
            ["type", "status"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.sweep_combinations = Counter(
            f"{PREFIX}_sweep_combinations_evaluated",
            "Parameter combinations evaluated by sweeps (rate() of it is the throughput).",
            registry=r,
        )
        self.sweep_rate = Gauge(
            f"{PREFIX}_sweep_combinations_per_second",
            "Combinations per second of the most recently finished sweep.",
            registry=r,
        )
        self.webhook_deliveries = Counter(
            f"{PREFIX}_webhook_deliveries",
            "Webhook delivery outcomes: delivered, gone (410), retry (failed attempt, will "
            "retry), failed (retries spent), refused (SSRF guard), deferred (breaker open).",
            ["outcome"],
            registry=r,
        )
        self.webhook_attempt_duration = Histogram(
            f"{PREFIX}_webhook_attempt_duration_seconds",
            "Time of webhook HTTP attempts.",
            buckets=WEBHOOK_BUCKETS,
            registry=r,
        )
        self.webhook_breakers = Gauge(
            f"{PREFIX}_webhook_breakers",
            "Destination hosts per circuit-breaker state, in this process.",
            ["state"],
            registry=r,
        )
        self.webhook_breaker_transitions = Counter(
            f"{PREFIX}_webhook_breaker_transitions",
            "Circuit-breaker state changes, by the state entered.",
            ["state"],
            registry=r,
        )
        for state in BREAKER_STATES:
            self.webhook_breakers.labels(state=state).set(0)
        self._queue = _QueueCollector(queue_stats)
        r.register(self._queue)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered HTTP request. ``route`` is the template (``/api/v1/jobs/{job_id}``),
        never the raw path, so the label set stays small."""
        self.http_requests.labels(route=route, method=method.upper(), status=str(status)).inc()
        self.http_request_duration.labels(route=route, method=method.upper()).observe(seconds)

    def job_submitted(self, type: str) -> None:
        self.jobs_submitted.labels(type=_value(type)).inc()

    def job_finished(
        self,
        type: str,
        status: str,
        seconds: float | None = None,
        *,
        combinations: int | None = None,
    ) -> None:
        """A job reached a final status (completed, failed, cancelled). ``combinations``:
        how many sweep combinations it evaluated (adds to the counter, sets the rate)."""
        type, status = _value(type), _value(status)
        if status not in JOB_STATUSES:
            raise ValueError(f"status {status!r} is not one of {JOB_STATUSES}")
        counter = {
            "completed": self.jobs_completed,
            "failed": self.jobs_failed,
            "cancelled": self.jobs_cancelled,
        }[status]
        counter.labels(type=type).inc()
        if seconds is not None:
            self.job_duration.labels(type=type, status=status).observe(seconds)
        if combinations:
            self.sweep_evaluated(combinations, seconds)

    def sweep_evaluated(self, combinations: int, seconds: float | None = None) -> None:
        """``combinations`` more evaluated; with ``seconds``, their rate becomes the gauge."""
        self.sweep_combinations.inc(combinations)
        if seconds:
            self.sweep_rate.set(combinations / seconds)

    def set_queue_stats(self, stats: QueueStats) -> None:
        self._queue.last = dict(stats)

    def webhook_outcome(self, outcome: str, seconds: float | None = None) -> None:
        if outcome not in WEBHOOK_OUTCOMES:
            raise ValueError(f"outcome {outcome!r} is not one of {WEBHOOK_OUTCOMES}")
        self.webhook_deliveries.labels(outcome=outcome).inc()
        if seconds is not None:
            self.webhook_attempt_duration.observe(seconds)

    def breaker_changed(self, state: str, counts: Mapping[str, int]) -> None:
        """A breaker entered ``state``; ``counts`` is hosts per state now."""
        self.webhook_breaker_transitions.labels(state=_value(state)).inc()
        for name in BREAKER_STATES:
            self.webhook_breakers.labels(state=name).set(counts.get(name, 0))

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type, for a ``/metrics`` response."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _QueueCollector(Collector):
    _NAMES = (
        ("queue_depth", f"{PREFIX}_queue_depth", "Jobs waiting in the queue."),
        ("running", f"{PREFIX}_running_jobs", "Jobs running now."),
        ("workers", f"{PREFIX}_workers", "Workers with a fresh heartbeat."),
    )

    def __init__(self, source: Callable[[], QueueStats] | None) -> None:
        self.source = source
        self.last: dict[str, int] = {}
        self._lock = threading.Lock()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.source is not None:
            # A failing source (database down) keeps the last values: a scrape must answer.
            with self._lock:
                try:
                    self.last = dict(self.source())
                except Exception:
                    _log.warning("queue stats unavailable for /metrics", exc_info=True)
        for key, name, doc in self._NAMES:
            yield GaugeMetricFamily(name, doc, value=float(self.last.get(key, 0)))

    def describe(self) -> Iterator[GaugeMetricFamily]:
        for _, name, doc in self._NAMES:
            yield GaugeMetricFamily(name, doc)


def _value(value: object) -> str:
    """An enum's value or the string itself (JobType.SWEEP and "sweep" label alike)."""
    return str(getattr(value, "value", value))
