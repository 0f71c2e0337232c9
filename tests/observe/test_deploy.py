"""The Grafana dashboard and Prometheus config in deploy/ refer only to metrics that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tradesweep.observe import Metrics, Snapshot

DEPLOY = Path(__file__).parents[2] / "deploy"
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def _exposed_names() -> set[str]:
    metrics = Metrics(
        snapshot=lambda: Snapshot(
            jobs_by_status={"queued": 1},
            sweep_durations={("completed", "X"): [1.0]},
            results_by_ticker={"X": 1},
            best_sharpe_by_ticker={"X": 1.0},
        )
    )
    metrics.observe_request("/health", "GET", 200, 0.01)
    metrics.job_submitted("sweep", ticker="X", strategy_type="SMA")
    metrics.webhook_outcome("delivered", 0.1)
    body, _ = metrics.exposition()
    return {
        s.name for family in text_string_to_metric_families(body.decode()) for s in family.samples
    }


def test_every_dashboard_query_names_an_exposed_metric() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "tradesweep-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bpipeline_trading_\w+", expr)}
    assert len(used) >= 8
    missing = used - _exposed_names()
    assert not missing, f"dashboard queries metrics nobody exposes: {sorted(missing)}"


def test_panels_the_issue_asks_for_are_there() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "tradesweep-dashboard.json").read_text())
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for wanted in ("queue depth", "success rate", "p50", "api health", "per ticker", "sharpe"):
        assert wanted in titles


def test_prometheus_scrapes_the_metrics_path() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"]
