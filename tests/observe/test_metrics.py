"""Prometheus metrics: each Metrics owns its registry; values move as the helpers are called;
the exposition parses."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from tradesweep.observe import Metrics
from tradesweep.store import JobStatus, JobType


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_many_instances_coexist_and_nothing_touches_the_default_registry() -> None:
    before = {m.name for m in REGISTRY.collect()}
    first, second = Metrics(), Metrics(CollectorRegistry())
    first.job_submitted("sweep")
    assert (
        first.registry.get_sample_value("tradesweep_jobs_submitted_total", {"type": "sweep"}) == 1
    )
    assert (
        second.registry.get_sample_value("tradesweep_jobs_submitted_total", {"type": "sweep"})
        is None
    )
    assert {m.name for m in REGISTRY.collect()} == before


def test_http_requests_by_route_template_method_and_status() -> None:
    metrics = Metrics()
    metrics.observe_request("/api/v1/jobs/{job_id}", "get", 200, 0.012)
    metrics.observe_request("/api/v1/jobs/{job_id}", "GET", 200, 0.2)
    metrics.observe_request("/api/v1/sweeps", "POST", 422, 0.003)
    samples = _samples(metrics)  # read back through the text format
    job = {"route": "/api/v1/jobs/{job_id}", "method": "GET"}
    sweeps = {"route": "/api/v1/sweeps", "method": "POST"}

    def sample(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert sample("tradesweep_http_requests_total", **job, status="200") == 2
    assert sample("tradesweep_http_requests_total", **sweeps, status="422") == 1
    assert (
        "tradesweep_http_requests_total",
        tuple(sorted({**sweeps, "status": "200"}.items())),
    ) not in samples
    assert sample("tradesweep_http_request_duration_seconds_count", **job) == 2
    assert sample("tradesweep_http_request_duration_seconds_bucket", **job, le="0.025") == 1
    assert sample("tradesweep_http_request_duration_seconds_bucket", **job, le="+Inf") == 2


def test_jobs_by_type_and_outcome_with_durations_and_sweep_throughput() -> None:
    metrics = Metrics()
    metrics.job_submitted(JobType.SWEEP)
    metrics.job_submitted("backtest")
    metrics.job_finished(JobType.SWEEP, JobStatus.COMPLETED, 4.0, combinations=2000)
    metrics.job_finished("backtest", "failed", 0.5)
    metrics.job_finished("walkforward", "cancelled")
    get = metrics.registry.get_sample_value
    assert get("tradesweep_jobs_submitted_total", {"type": "sweep"}) == 1
    assert get("tradesweep_jobs_completed_total", {"type": "sweep"}) == 1
    assert get("tradesweep_jobs_failed_total", {"type": "backtest"}) == 1
    assert get("tradesweep_jobs_cancelled_total", {"type": "walkforward"}) == 1
    assert get("tradesweep_job_duration_seconds_sum", {"type": "sweep", "status": "completed"}) == 4
    assert get("tradesweep_sweep_combinations_evaluated_total") == 2000
    assert get("tradesweep_sweep_combinations_per_second") == 500
    metrics.sweep_evaluated(100)
    assert get("tradesweep_sweep_combinations_evaluated_total") == 2100
    with pytest.raises(ValueError):
        metrics.job_finished("sweep", "running")


def test_queue_gauges_read_the_source_at_each_scrape() -> None:
    stats = {"queue_depth": 3, "running": 1, "workers": 2}
    metrics = Metrics(queue_stats=lambda: stats)
    samples = _samples(metrics)
    assert samples[("tradesweep_queue_depth", ())] == 3
    assert samples[("tradesweep_running_jobs", ())] == 1
    assert samples[("tradesweep_workers", ())] == 2
    stats = {"queue_depth": 0, "running": 4, "workers": 2}
    assert _samples(metrics)[("tradesweep_running_jobs", ())] == 4


def test_queue_gauges_keep_their_last_values_when_the_source_fails() -> None:
    calls = iter([{"queue_depth": 5, "running": 2, "workers": 1}])
    metrics = Metrics(queue_stats=lambda: next(calls))
    assert _samples(metrics)[("tradesweep_queue_depth", ())] == 5
    assert _samples(metrics)[("tradesweep_queue_depth", ())] == 5  # StopIteration: kept


def test_queue_gauges_can_be_pushed() -> None:
    metrics = Metrics()
    metrics.set_queue_stats({"queue_depth": 7, "running": 0, "workers": 0})
    assert metrics.registry.get_sample_value("tradesweep_queue_depth") == 7


def test_webhook_outcomes_and_breaker_states() -> None:
    metrics = Metrics()
    metrics.webhook_outcome("delivered", 0.05)
    metrics.webhook_outcome("retry", 10.0)
    metrics.breaker_changed("open", {"open": 2, "closed": 1})
    get = metrics.registry.get_sample_value
    assert get("tradesweep_webhook_deliveries_total", {"outcome": "delivered"}) == 1
    assert get("tradesweep_webhook_attempt_duration_seconds_count") == 2
    assert get("tradesweep_webhook_breakers", {"state": "open"}) == 2
    assert get("tradesweep_webhook_breakers", {"state": "half_open"}) == 0
    assert get("tradesweep_webhook_breaker_transitions_total", {"state": "open"}) == 1
    with pytest.raises(ValueError):
        metrics.webhook_outcome("lost")
