"""GET /api/v1/strategies and /api/v1/strategies/{name}: the schemas the forms are built from."""

from __future__ import annotations

import httpx

from tradesweep.strategies.builtins import BUILTINS


def test_lists_every_builtin_with_its_parameter_schema(client: httpx.Client) -> None:
    response = client.get("/api/v1/strategies")
    assert response.status_code == 200
    strategies = response.json()["strategies"]
    assert [s["name"] for s in strategies] == list(BUILTINS)
    sma = strategies[0]
    assert sma["strategy_type"] == "SMA"
    assert sma["warmup_period"] == 30
    assert sma["parameters"][0] == {
        "name": "fast",
        "type": "int",
        "default": 10,
        "min": 2,
        "max": 500,
        "description": sma["parameters"][0]["description"],
    }
    rsi = next(s for s in strategies if s["name"] == "rsi")
    assert rsi["strategy_type"] == "rsi"
    assert {p["name"]: p["type"] for p in rsi["parameters"]}["oversold"] == "float"


def test_one_strategy_by_name_or_short_type(client: httpx.Client) -> None:
    by_type = client.get("/api/v1/strategies/MACD").json()
    by_name = client.get("/api/v1/strategies/macd").json()
    assert by_type == by_name
    assert [p["name"] for p in by_name["parameters"]] == ["fast", "slow", "signal"]


def test_unknown_strategy_is_404_with_a_suggestion(client: httpx.Client) -> None:
    response = client.get("/api/v1/strategies/bolinger")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    assert "did you mean 'bollinger'" in body["message"]
    assert body["details"]["field"] == "name"


def test_needs_a_key(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/v1/strategies")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
