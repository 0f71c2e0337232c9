"""Prometheus metrics, on a registry the caller owns.

Two kinds, so ``/metrics`` is right however many processes do the work:

* **Read from the database at scrape time** (:class:`Snapshot`, built by
  :func:`tradesweep.observe.snapshot.read_snapshot`): queue depth, jobs by status, live
  workers, finished sweeps by status and ticker with their durations, results stored per
  ticker, best Sharpe ratio per ticker. A worker on another machine changes these by writing
  its job rows; no push, no shared memory.
* **Counted in this process**: HTTP requests and API latency (each API process is scraped),
  submissions (they happen in the API), webhook outcomes and breaker states (the dispatcher
  runs inside ``tradesweep serve``).

Nothing is registered at import: :class:`Metrics` defines every metric on the
``CollectorRegistry`` it is given (or a new one). Names and labels: docs/observability.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

_log = logging.getLogger(__name__)

PREFIX = "pipeline_trading"
JOB_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
WEBHOOK_OUTCOMES = ("delivered", "gone", "retry", "failed", "refused", "deferred")
BREAKER_STATES = ("closed", "open", "half_open")

API_LATENCY_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0)
SWEEP_DURATION_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
WEBHOOK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SNAPSHOT_MAX_AGE_SECONDS = 5.0
"""Scrapes closer together than this share one set of database reads."""


@dataclass(frozen=True)
class Snapshot:
    """What the database says now (see :func:`tradesweep.observe.snapshot.read_snapshot`)."""

    jobs_by_status: Mapping[str, int] = field(default_factory=dict)
    workers: int = 0
    # (status, ticker) -> durations in seconds of finished sweep jobs
    sweep_durations: Mapping[tuple[str, str], list[float]] = field(default_factory=dict)
    results_by_ticker: Mapping[str, int] = field(default_factory=dict)
    best_sharpe_by_ticker: Mapping[str, float] = field(default_factory=dict)


class Metrics:
    """Every tradesweep metric, registered on ``registry`` (a new one when None).

    ``snapshot``, when given, is called at scrape time (at most every
    :data:`SNAPSHOT_MAX_AGE_SECONDS`) for the database-backed metrics; a failing call (the
    database is down) keeps the last values, so a scrape always answers.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        snapshot: Callable[[], Snapshot] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "code"],
            registry=r,
        )
        self.api_latency = Histogram(
            f"{PREFIX}_api_latency_seconds",
            "Time to answer an API request, by endpoint (method and route template).",
            ["endpoint"],
            buckets=API_LATENCY_BUCKETS,
            registry=r,
        )
        self.sweep_jobs_queued = Counter(
            f"{PREFIX}_sweep_jobs_queued",
            "Sweep jobs accepted by this API process, by ticker and strategy type.",
            ["ticker", "strategy_type"],
            registry=r,
        )
        self.jobs_submitted = Counter(
            f"{PREFIX}_jobs_submitted",
            "Jobs of every type accepted by this API process.",
            ["type"],
            registry=r,
        )
        self.webhook_deliveries = Counter(
            f"{PREFIX}_webhook_deliveries",
            "Webhook delivery outcomes in this process: delivered, gone (410), retry (failed "
            "attempt, will retry), failed (retries spent), refused (SSRF guard), deferred "
            "(breaker open).",
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
        self._database = _DatabaseCollector(snapshot, clock)
        r.register(self._database)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered HTTP request. ``route`` is the template (``/api/v1/jobs/{job_id}``),
        never the raw path, so the label set stays small."""
        method = method.upper()
        self.http_requests.labels(route=route, method=method, code=str(status)).inc()
        self.api_latency.labels(endpoint=f"{method} {route}").observe(seconds)

    def job_submitted(
        self, type: str, *, ticker: str | None = None, strategy_type: str | None = None
    ) -> None:
        """A job was accepted; a sweep also counts by ticker and strategy type."""
        type = _value(type)
        self.jobs_submitted.labels(type=type).inc()
        if type == "sweep":
            self.sweep_jobs_queued.labels(
                ticker=ticker or "", strategy_type=strategy_type or ""
            ).inc()

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Push database values instead of reading them at scrape time."""
        self._database.last = snapshot

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


class _DatabaseCollector(Collector):
    def __init__(self, source: Callable[[], Snapshot] | None, clock: Callable[[], float]) -> None:
        self.source = source
        self.clock = clock
        self.last = Snapshot()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        snap = self._current()
        queue = GaugeMetricFamily(f"{PREFIX}_queue_depth", "Jobs waiting in the queue.")
        queue.add_metric([], float(snap.jobs_by_status.get("queued", 0)))
        yield queue
        jobs = GaugeMetricFamily(f"{PREFIX}_jobs", "Jobs by status now.", labels=["status"])
        for status in JOB_STATUSES:
            jobs.add_metric([status], float(snap.jobs_by_status.get(status, 0)))
        yield jobs
        workers = GaugeMetricFamily(f"{PREFIX}_workers_alive", "Workers with a fresh heartbeat.")
        workers.add_metric([], float(snap.workers))
        yield workers
        yield from _sweep_families(snap)

    def describe(self) -> Iterator[Metric]:
        # Families are built per scrape; describing none keeps registration free of a scrape.
        return iter(())

    def _current(self) -> Snapshot:
        if self.source is None:
            return self.last
        with self._lock:
            now = self.clock()
            if self._read_at is None or now - self._read_at >= SNAPSHOT_MAX_AGE_SECONDS:
                try:
                    self.last = self.source()
                    self._read_at = now
                except Exception:
                    _log.warning("database metrics unavailable for /metrics", exc_info=True)
            return self.last


def _sweep_families(snap: Snapshot) -> Iterator[Metric]:
    completed = CounterMetricFamily(
        f"{PREFIX}_sweep_jobs_completed",
        "Sweep jobs that finished, by final status and ticker (from the database).",
        labels=["status", "ticker"],
    )
    duration = HistogramMetricFamily(
        f"{PREFIX}_sweep_duration_seconds",
        "Run time of finished sweep jobs (started to finished), by status and ticker.",
        labels=["status", "ticker"],
    )
    for (status, ticker), seconds in sorted(snap.sweep_durations.items()):
        completed.add_metric([status, ticker], float(len(seconds)))
        buckets = [
            (_le(bound), float(sum(1 for s in seconds if s <= bound)))
            for bound in SWEEP_DURATION_BUCKETS
        ]
        buckets.append(("+Inf", float(len(seconds))))
        duration.add_metric([status, ticker], buckets, sum_value=float(sum(seconds)))
    yield completed
    yield duration
    results = CounterMetricFamily(
        f"{PREFIX}_sweep_results",
        "Result rows (evaluated combinations) stored by sweeps, by ticker.",
        labels=["ticker"],
    )
    for ticker, count in sorted(snap.results_by_ticker.items()):
        results.add_metric([ticker], float(count))
    yield results
    sharpe = GaugeMetricFamily(
        f"{PREFIX}_best_sharpe_ratio",
        "Highest Sharpe ratio among the winners of completed sweeps, by ticker.",
        labels=["ticker"],
    )
    for ticker, value in sorted(snap.best_sharpe_by_ticker.items()):
        sharpe.add_metric([ticker], float(value))
    yield sharpe


def _le(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{bound:.1f}"


def _value(value: object) -> str:
    """An enum's value or the string itself (JobType.SWEEP and "sweep" label alike)."""
    return str(getattr(value, "value", value))
