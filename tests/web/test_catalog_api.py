"""GET /api/v1/catalog: the metric table, objectives, presets and engine settings."""

from __future__ import annotations

import httpx

from tradesweep.metrics.names import KEYS, OBJECTIVES
from tradesweep.metrics.table import METRICS


def test_catalog_labels_every_metric_and_lists_presets_and_settings(
    client: httpx.Client,
) -> None:
    response = client.get("/api/v1/catalog")
    assert response.status_code == 200
    body = response.json()
    metrics = {m["key"]: m for m in body["metrics"]}
    assert list(metrics) == [*KEYS, "score"]
    assert metrics["total_return_pct"]["label"] == "Total return [%]"
    assert metrics["profit_factor"]["null_reason"].startswith("no trades")
    assert metrics["bars"]["null_reason"] is None
    assert {k: metrics["total_return_pct"][k] for k in ("unit", "tone", "decimals", "signed")} == {
        "unit": "pct",
        "tone": "sign",
        "decimals": 2,
        "signed": True,
    }
    assert metrics["total_return_pct"]["doc"] == "docs/metrics.md#total_return_pct"
    assert metrics["annualized_return_pct"]["alias"] == "annualized_return"
    for row in METRICS:  # the whole table, field by field
        served = metrics[row.key]
        assert served["label"] == row.label and served["unit"] == row.unit
        assert served["tone"] == row.tone and served["decimals"] == row.decimals
        assert served["doc"] == row.doc and served["null_reason"] == row.null_reason
    assert body["objectives"] == list(OBJECTIVES)
    presets = {p["name"]: p for p in body["presets"]}
    assert presets["standard"]["settings"]["fees"] == 0.001
    assert presets["standard"]["spec_fields"]["min_trades"] == 20
    settings = {s["name"]: s for s in body["engine_settings"]}
    assert settings["direction"]["choices"] == ["long_only", "short_only", "long_short"]
    assert settings["stop_loss"] == {
        "name": "stop_loss",
        "default": None,
        "type": "float",
        "optional": True,
        "choices": None,
    }
    assert settings["fees"]["default"] == 0.0
    assert body["trade_sides"] == {"1": "long", "-1": "short"}
    assert body["exit_reasons"][:3] == ["signal", "stop_loss", "take_profit"]


def test_catalog_needs_a_key(anonymous: httpx.Client) -> None:
    assert anonymous.get("/api/v1/catalog").status_code == 401
