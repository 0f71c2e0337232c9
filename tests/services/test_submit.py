"""The submit use-case: request -> spec -> queued job, shared by the API and any CLI."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.errors import ParameterError
from tradesweep.services.submit import (
    BacktestRequest,
    SweepRequest,
    WalkForwardRequest,
    backtest_spec,
    parse_request,
    strategy_name,
    strategy_type_of,
    submit_sweep,
    sweep_spec,
    walkforward_spec,
)
from tradesweep.specs import DEFAULT_MIN_TRADES, BacktestSpec, SweepSpec
from tradesweep.store import JobStatus, JobType, TenantRepository

TICKERS = {"GOOGL", "EURUSD"}
CLIENT = {
    "ticker": "GOOGL",
    "fast_range": [10, 20],
    "slow_range": [20, 30],
    "step": 5,
    "min_trades": 50,
    "strategy_type": "SMA",
    "config_path": "minimum",
}


def _sweep(**change: Any) -> SweepRequest:
    body = {k: v for k, v in {**CLIENT, **change}.items() if v is not None}
    return parse_request(SweepRequest, body, tickers=TICKERS)


@pytest.mark.parametrize("preset", ["minimum", "standard", None])
def test_the_spec_is_the_one_the_cli_runs_for_the_same_request(preset: str | None) -> None:
    cli = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": ["fast=10:20:5", "slow=20:30:5"],
            "min_trades": 50,
            "preset": preset,
        }
    )
    mine = sweep_spec(_sweep(config_path=preset))
    assert mine == cli
    assert mine.spec_id == cli.spec_id


def test_form_values_are_read_like_json() -> None:
    form = {
        "ticker": "googl",
        "fast_range": ["10", "20"],
        "slow_range": "[20, 30]",
        "step": "5",
        "min_trades": "50",
        "strategy_type": "sma",
        "config_path": "minimum",
    }
    request = parse_request(SweepRequest, form, tickers=TICKERS)
    assert request == _sweep()
    assert request.ticker == "GOOGL" and request.strategy_type == "SMA"


@pytest.mark.parametrize(
    ("given", "builtin"),
    [("SMA", "sma_crossover"), ("ema", "ema_crossover"), ("MACD", "macd"), ("rsi", "rsi")],
)
def test_strategy_types(given: str, builtin: str) -> None:
    assert strategy_name(given) == builtin
    assert strategy_type_of(builtin) == (given.upper() if given.upper() != "RSI" else "rsi")


def test_macd_sweeps_its_fast_and_slow_periods() -> None:
    spec = sweep_spec(_sweep(strategy_type="MACD", ranges={"signal": [5, 9]}))
    assert spec.strategy == "macd"
    assert spec.ranges["fast"] == {"min": 10, "max": 20, "step": 5}
    assert spec.ranges["signal"] == {"values": [5, 9]}


def test_default_min_trades_is_the_specs_and_step_1() -> None:
    request = parse_request(
        SweepRequest,
        {"ticker": "GOOGL", "fast_range": [5, 9], "slow_range": [10, 20]},
        tickers=TICKERS,
    )
    assert request.min_trades is None and request.step == 1 and request.strategy_type == "SMA"
    spec = sweep_spec(request)
    assert spec.preset is None and spec.min_trades == DEFAULT_MIN_TRADES == 1


@pytest.mark.parametrize(("preset", "expected"), [("standard", 20), ("minimum", 1), (None, 1)])
def test_without_min_trades_the_preset_decides_as_in_the_cli(
    preset: str | None, expected: int
) -> None:
    request = _sweep(min_trades=None, config_path=preset)
    cli = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": ["fast=10:20:5", "slow=20:30:5"],
            "preset": preset,
        }
    )
    assert sweep_spec(request) == cli and cli.min_trades == expected
    wf = parse_request(
        WalkForwardRequest,
        {**CLIENT, "min_trades": None, "config_path": preset, "train_bars": 500, "test_bars": 100},
        tickers=TICKERS,
    )
    assert walkforward_spec(wf).sweep.min_trades == expected


@pytest.mark.parametrize("low", [0, 1, 5])
def test_min_trades_below_10_is_accepted(low: int) -> None:
    assert sweep_spec(_sweep(min_trades=low)).min_trades == low


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fast_range": None}, "fast_range"),
        ({"slow_range": None}, "slow_range"),
        ({"ranges": {"fast": [1, 2]}}, "ranges"),
        ({"strategy_type": "rsi", "fast_range": None, "slow_range": None}, "ranges"),
    ],
)
def test_spec_rules_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ParameterError) as error:
        sweep_spec(_sweep(**change))
    assert error.value.details["field"] == field


def test_objective_and_engine_settings_reach_the_spec_over_the_preset() -> None:
    settings = {"fees": 0.002, "direction": "long_short", "stop_loss": 0.05}
    spec = sweep_spec(_sweep(objective="sharpe_ratio", settings=settings, config_path="standard"))
    assert spec.objective == "sharpe_ratio"
    assert spec.settings.fees == 0.002  # the request wins over the preset's 0.001
    assert spec.settings.direction == "long_short" and spec.settings.stop_loss == 0.05
    assert (
        spec.settings.slippage
        == SweepSpec.from_dict(
            {"data": "GOOGL", "strategy": "sma_crossover", "preset": "standard"}
        ).settings.slippage
    )  # the rest still comes from the preset
    form = _sweep(settings='{"fill": "close"}', config_path=None)  # a form sends JSON text
    assert sweep_spec(form).settings.fill == "close"
    walk = walkforward_spec(
        parse_request(
            WalkForwardRequest,
            {**CLIENT, "settings": settings, "train_bars": 500, "test_bars": 100},
            tickers=TICKERS,
        )
    )
    assert walk.sweep.settings.fees == 0.002


def test_a_bad_engine_setting_names_it() -> None:
    from tradesweep.errors import SettingsError

    with pytest.raises(SettingsError) as error:
        sweep_spec(_sweep(settings={"fees": 2.0}))
    assert error.value.details["setting"] == "fees"


def test_request_rules() -> None:
    for change, field in [
        ({"ticker": "BTC-USD"}, "ticker"),
        ({"fast_range": [25, 28]}, "slow_range"),
        ({"step": 0}, "step"),
        ({"min_trades": 2000}, "min_trades"),
        ({"min_trades": -1}, "min_trades"),
        ({"strategy_type": "LSTM"}, "strategy_type"),
        ({"config_path": "../x.yaml"}, "config_path"),
        ({"webhook_url": "file:///etc/passwd"}, "webhook_url"),
        ({"objective": "sharpe"}, "objective"),
    ]:
        with pytest.raises(ValidationError) as error:
            _sweep(**change)
        assert error.value.errors()[0]["loc"][0] == field, change


def test_no_valid_combination_is_refused(sessions: sessionmaker[Session]) -> None:
    request = parse_request(
        SweepRequest,
        {
            "ticker": "GOOGL",
            "strategy_type": "rsi",
            "ranges": {"oversold": {"values": [40]}, "overbought": {"values": [30]}},
        },
        tickers=TICKERS,
    )
    with sessions.begin() as s, pytest.raises(ParameterError, match="no valid combination"):
        submit_sweep(s, TenantRepository(s).create("acme").id, request)


def test_submit_stores_the_spec_and_the_request(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        tenant = TenantRepository(s).create("acme")
        first = submit_sweep(s, tenant.id, _sweep(), idempotency_key="k")
        again = submit_sweep(s, tenant.id, _sweep(), idempotency_key="k")
    assert first.created and not again.created and again.job.id == first.job.id
    assert (first.combinations, first.grid_combinations) == (8, 9)
    job = first.job
    assert job.type is JobType.SWEEP and job.status is JobStatus.QUEUED and job.ticker == "GOOGL"
    assert SweepSpec.from_dict(job.parameters["spec"]) == sweep_spec(_sweep())
    assert job.parameters["request"] == {**CLIENT, "objective": "score"}


def test_backtest_spec() -> None:
    request = parse_request(
        BacktestRequest,
        {
            "ticker": "GOOGL",
            "fast_period": "10",
            "slow_period": "30",
            "config_path": "standard",
            "settings": '{"fees": 0.002}',
        },
        tickers=TICKERS,
    )
    spec = backtest_spec(request)
    assert spec.strategy == "sma_crossover" and dict(spec.params) == {"fast": 10, "slow": 30}
    assert spec.settings.fees == 0.002 and spec.settings.slippage == 0.0005  # preset fills
    assert BacktestSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ParameterError):
        backtest_spec(request.model_copy(update={"fast_period": 30, "slow_period": 10}))


def test_walkforward_spec() -> None:
    request = parse_request(
        WalkForwardRequest, {**CLIENT, "train_bars": 500, "test_bars": 100}, tickers=TICKERS
    )
    spec = walkforward_spec(request)
    assert spec.sweep.ranges == sweep_spec(_sweep()).ranges and spec.sweep.top == 1
    assert (spec.train_bars, spec.test_bars, spec.step_bars, spec.anchored) == (
        500,
        100,
        100,
        False,
    )


def test_indicator_convention_reaches_every_spec() -> None:
    sweep = sweep_spec(_sweep(strategy_type="EMA", indicator_convention="talib"))
    assert sweep.indicator_convention == "talib"
    assert sweep_spec(_sweep()).indicator_convention == "pandas"
    walk = parse_request(
        WalkForwardRequest,
        {**CLIENT, "train_bars": 500, "test_bars": 100, "indicator_convention": "talib"},
        tickers=TICKERS,
    )
    assert walkforward_spec(walk).sweep.indicator_convention == "talib"
    backtest = parse_request(
        BacktestRequest,
        {"ticker": "GOOGL", "strategy_type": "MACD", "indicator_convention": "talib"},
        tickers=TICKERS,
    )
    assert backtest_spec(backtest).indicator_convention == "talib"
    with pytest.raises(ValidationError, match="indicator_convention"):
        _sweep(indicator_convention="ta-lib")
