"""Prometheus metrics: each Metrics owns its registry; values move as the helpers are called
or the database changes; the exposition parses with prometheus-client's parser."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from tradesweep.observe import Metrics, Snapshot
from tradesweep.store import JobType

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples_of(metrics: Metrics) -> Samples:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_many_instances_coexist_and_nothing_touches_the_default_registry() -> None:
    before = {m.name for m in REGISTRY.collect()}
    first, second = Metrics(), Metrics(CollectorRegistry())
    first.job_submitted("sweep", ticker="GOOGL", strategy_type="SMA")
    labels = {"ticker": "GOOGL", "strategy_type": "SMA"}
    get = "pipeline_trading_sweep_jobs_queued_total"
    assert first.registry.get_sample_value(get, labels) == 1
    assert second.registry.get_sample_value(get, labels) is None
    assert {m.name for m in REGISTRY.collect()} == before


def test_http_requests_by_route_and_code_and_latency_by_endpoint() -> None:
    metrics = Metrics()
    metrics.observe_request("/api/v1/jobs/{job_id}", "get", 200, 0.012)
    metrics.observe_request("/api/v1/jobs/{job_id}", "GET", 200, 0.7)
    metrics.observe_request("/api/v1/strategy/sweep", "POST", 422, 0.003)
    got = samples_of(metrics)
    job = {"route": "/api/v1/jobs/{job_id}", "method": "GET"}
    assert sample(got, "pipeline_trading_http_requests_total", **job, code="200") == 2
    post = {"route": "/api/v1/strategy/sweep", "method": "POST", "code": "422"}
    assert sample(got, "pipeline_trading_http_requests_total", **post) == 1
    endpoint = "GET /api/v1/jobs/{job_id}"
    latency = "pipeline_trading_api_latency_seconds"
    assert sample(got, f"{latency}_count", endpoint=endpoint) == 2
    assert sample(got, f"{latency}_bucket", endpoint=endpoint, le="0.1") == 1
    assert sample(got, f"{latency}_bucket", endpoint=endpoint, le="1.0") == 2
    assert sample(got, f"{latency}_bucket", endpoint=endpoint, le="+Inf") == 2


def test_submissions_count_every_type_and_sweeps_by_ticker_and_strategy() -> None:
    metrics = Metrics()
    metrics.job_submitted(JobType.SWEEP, ticker="GOOGL", strategy_type="SMA")
    metrics.job_submitted("sweep", ticker="GOOGL", strategy_type="SMA")
    metrics.job_submitted("backtest", ticker="GOOGL", strategy_type="SMA")
    got = samples_of(metrics)
    queued = "pipeline_trading_sweep_jobs_queued_total"
    assert sample(got, queued, ticker="GOOGL", strategy_type="SMA") == 2
    assert sample(got, "pipeline_trading_jobs_submitted_total", type="sweep") == 2
    assert sample(got, "pipeline_trading_jobs_submitted_total", type="backtest") == 1


def test_database_families_from_a_snapshot_read_at_scrape_time() -> None:
    snap = Snapshot(
        jobs_by_status={"queued": 3, "running": 1, "completed": 2},
        workers=2,
        sweep_durations={("completed", "GOOGL"): [5.0, 45.0], ("failed", "EURUSD"): [2000.0]},
        results_by_ticker={"GOOGL": 190},
        best_sharpe_by_ticker={"GOOGL": 1.25},
    )
    metrics = Metrics(snapshot=lambda: snap)
    got = samples_of(metrics)
    assert sample(got, "pipeline_trading_queue_depth") == 3
    assert sample(got, "pipeline_trading_jobs", status="running") == 1
    assert sample(got, "pipeline_trading_jobs", status="failed") == 0
    assert sample(got, "pipeline_trading_workers_alive") == 2
    done = {"status": "completed", "ticker": "GOOGL"}
    assert sample(got, "pipeline_trading_sweep_jobs_completed_total", **done) == 2
    duration = "pipeline_trading_sweep_duration_seconds"
    assert sample(got, f"{duration}_bucket", **done, le="10.0") == 1
    assert sample(got, f"{duration}_bucket", **done, le="60.0") == 2
    assert sample(got, f"{duration}_sum", **done) == 50.0
    slow = {"status": "failed", "ticker": "EURUSD"}
    assert sample(got, f"{duration}_bucket", **slow, le="1800.0") == 0
    assert sample(got, f"{duration}_bucket", **slow, le="+Inf") == 1
    assert sample(got, "pipeline_trading_sweep_results_total", ticker="GOOGL") == 190
    assert sample(got, "pipeline_trading_best_sharpe_ratio", ticker="GOOGL") == 1.25


def test_scrapes_close_together_share_one_database_read() -> None:
    now = [100.0]
    reads = []

    def read() -> Snapshot:
        reads.append(now[0])
        return Snapshot(jobs_by_status={"queued": len(reads)})

    metrics = Metrics(snapshot=read, clock=lambda: now[0])
    assert sample(samples_of(metrics), "pipeline_trading_queue_depth") == 1
    now[0] += 1.0
    assert sample(samples_of(metrics), "pipeline_trading_queue_depth") == 1
    now[0] += 10.0
    assert sample(samples_of(metrics), "pipeline_trading_queue_depth") == 2
    assert len(reads) == 2


def test_a_failing_database_read_keeps_the_last_values() -> None:
    calls = iter([Snapshot(jobs_by_status={"queued": 5})])
    now = [0.0]
    metrics = Metrics(snapshot=lambda: next(calls), clock=lambda: now[0])
    assert sample(samples_of(metrics), "pipeline_trading_queue_depth") == 5
    now[0] += 60.0
    assert sample(samples_of(metrics), "pipeline_trading_queue_depth") == 5  # StopIteration


def test_webhook_outcomes_and_breaker_states() -> None:
    metrics = Metrics()
    metrics.webhook_outcome("delivered", 0.05)
    metrics.webhook_outcome("retry", 10.0)
    metrics.breaker_changed("open", {"open": 2, "closed": 1})
    get = metrics.registry.get_sample_value
    assert get("pipeline_trading_webhook_deliveries_total", {"outcome": "delivered"}) == 1
    assert get("pipeline_trading_webhook_attempt_duration_seconds_count") == 2
    assert get("pipeline_trading_webhook_breakers", {"state": "open"}) == 2
    assert get("pipeline_trading_webhook_breakers", {"state": "half_open"}) == 0
    assert get("pipeline_trading_webhook_breaker_transitions_total", {"state": "open"}) == 1
    with pytest.raises(ValueError):
        metrics.webhook_outcome("lost")
