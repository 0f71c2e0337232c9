"""Risk and sizing settings as sweep axes: every row of a sweep over ``stop_loss``,
``take_profit``, ``trailing_stop``, ``size``, ``max_drawdown`` and ATR stops equals one
``run_backtest`` with that row's settings, on the fused path and the general path; the axes are
validated by ``EngineSettings``' rules, named in every row, and counted as trials."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.errors import ParameterError
from tradesweep.metrics import metrics_from_result
from tradesweep.specs import SweepSpec
from tradesweep.strategies import get_strategy, strategy_class
from tradesweep.sweep import run_sweep
from tradesweep.sweep.axes import SETTING_AXES
from tradesweep.sweep.evaluate import METRIC_COLUMNS, evaluate
from tradesweep.sweep.runner import plan_sweep, sweep_bars
from tradesweep.sweep.space import ParameterSpace

RTOL = 1e-9
ATOL = 1e-10


def random_bars(n: int = 700, seed: int = 7) -> pd.DataFrame:
    """A seeded random walk with intrabar ranges (so stops fill inside bars and at gaps)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    open_ = close * np.exp(rng.normal(0.0, 0.006, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.012, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.012, n))
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1.0}, index=index
    )


def assert_row_equals_backtest(row: pd.Series, bars: pd.DataFrame, result: Any) -> None:
    """``row`` (a sweep result row) equals ``run_backtest`` with its parameters and settings."""
    plan = result.plan
    params = {name: _plain(row[name]) for name in plan.space.param_names}
    swept = {name: float(row[name]) for name in plan.space.setting_names}
    settings = plan.settings.replace(**swept)
    strategy = get_strategy(plan.spec.strategy, params)
    backtest = run_backtest(bars, strategy.signals(bars), settings)
    want = metrics_from_result(backtest, bars, periods_per_year=result.ppy)
    bad = []
    for key in METRIC_COLUMNS:
        expected = np.nan if want[key] is None else float(want[key])
        actual = float(row[key])
        if np.isnan(expected) or np.isnan(actual):
            if not (np.isnan(expected) and np.isnan(actual)):
                bad.append(f"{key}: got {actual!r}, want {expected!r}")
        elif not np.isclose(actual, expected, rtol=RTOL, atol=ATOL):
            bad.append(f"{key}: got {actual!r}, want {expected!r}")
    assert not bad, f"{params} {swept}: " + "; ".join(bad)


def _plain(x: Any) -> Any:
    item = getattr(x, "item", None)
    return item() if callable(item) else x


class _Swept:
    def __init__(self, spec: SweepSpec, bars: pd.DataFrame) -> None:
        self.plan = plan_sweep(spec)
        self.result = sweep_bars(self.plan, bars, workers=2)
        self.ppy = self.result.periods_per_year


CASES: dict[str, dict[str, Any]] = {
    "stop_take_profit": {
        "strategy": "sma_crossover",
        "ranges": {
            "fast": "10:30:10",
            "slow": 50,
            "stop_loss": "0.01:0.05:0.02",
            "take_profit": [0.02, 0.04, 0.06],
        },
        "settings": {"direction": "long_short", "fees": 0.001},
    },
    "size_trailing_drawdown": {
        "strategy": "ema_crossover",
        "ranges": {
            "fast": [5, 12],
            "slow": 26,
            "size": [0.25, 0.5, 1.0],
            "trailing_stop": [0.03, 0.08],
            "max_drawdown": [0.1, 0.3],
        },
        "settings": {"fractional": False},
    },
    "atr_stops": {
        "strategy": "rsi",
        "ranges": {
            "period": [7, 14],
            "stop_loss_atr": "1:3:1",
            "take_profit_atr": [2.0, 4.0],
            "trailing_stop_atr": [3.0],
        },
        "settings": {"atr_period": 10, "fill": "close"},
    },
    "bollinger_cash_size": {
        "strategy": "bollinger",
        "ranges": {"period": [10, 20], "size": [1000.0, 4000.0], "stop_loss": [0.02, 0.04]},
        "settings": {"size_type": "cash"},
    },
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("data", ["googl", "random"])
def test_every_row_equals_a_single_backtest_with_its_settings(case, data, request) -> None:
    bars = request.getfixturevalue("googl") if data == "googl" else random_bars()
    fields = CASES[case]
    spec = SweepSpec.from_dict({"data": "GOOGL", **fields})
    swept = _Swept(spec, bars)
    frame = swept.result.results
    assert swept.result.path == "fused"
    assert len(frame) == swept.plan.space.grid_size
    for name in swept.plan.space.setting_names:
        assert frame[name].nunique() > 1 or name == "trailing_stop_atr"
    for _, row in frame.iterrows():
        assert_row_equals_backtest(row, bars, swept)
    # the settings change the outcome (the axes are not ignored)
    assert frame["final_equity"].nunique() > len(frame) // 4


@pytest.mark.parametrize("case", ["stop_take_profit", "atr_stops"])
def test_general_path_equals_fused_path_with_setting_axes(case) -> None:
    bars = random_bars(400, seed=3)
    fields = CASES[case]
    space = ParameterSpace(
        strategy_class(fields["strategy"]),
        fields["ranges"],
        settings=EngineSettings.from_dict(fields["settings"]),
    )
    combos = pd.DataFrame(space.valid_combinations().columns)
    settings = EngineSettings.from_dict(fields["settings"])
    fused = evaluate(bars, fields["strategy"], combos, settings, workers=1)
    general = evaluate(bars, fields["strategy"], combos, settings, path="general", workers=1)
    assert (fused.path, general.path) == ("fused", "general")
    assert list(fused.params.columns) == list(combos.columns)
    np.testing.assert_allclose(
        fused.metrics.to_numpy(), general.metrics.to_numpy(), rtol=RTOL, atol=ATOL, equal_nan=True
    )


def test_rows_name_their_settings_in_json_and_csv(googl, tmp_path) -> None:
    spec = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": ["fast=10:30:10", "slow=50", "stop_loss=0.01:0.05:0.02", "size=0.5,1"],
            "top": 100,
            "min_trades": 0,
        }
    )
    result = run_sweep(spec, workers=1)
    assert result.params == ("fast", "slow", "stop_loss", "size")
    assert result.swept == ("fast", "stop_loss", "size")
    rows = result.to_json()["results"]
    assert len(rows) == 3 * 3 * 2
    json.dumps(rows, allow_nan=False)
    assert {tuple(row["params"]) for row in rows} == {("fast", "slow", "stop_loss", "size")}
    assert {(r["params"]["stop_loss"], r["params"]["size"]) for r in rows} == {
        (s, z) for s in (0.01, 0.03, 0.05) for z in (0.5, 1.0)
    }
    # the DSR counts every combination, setting axes included, as a trial
    assert result.diagnostics.deflated_sharpe is not None
    assert result.diagnostics.deflated_sharpe.n_trials == 18


def test_a_constraint_may_use_setting_axes() -> None:
    space = ParameterSpace(
        strategy_class("sma_crossover"),
        {"fast": 10, "slow": 50, "stop_loss": [0.01, 0.02], "take_profit": [0.01, 0.02, 0.04]},
        constraint="take_profit >= 2 * stop_loss",
    )
    combos = space.valid_combinations().to_dicts()
    assert [(c["stop_loss"], c["take_profit"]) for c in combos] == [
        (0.01, 0.02),
        (0.01, 0.04),
        (0.02, 0.04),
    ]


def test_mappings_may_carry_setting_axes_that_are_off_in_the_settings() -> None:
    """A list of mappings gives the axis in every row: the settings' own value (off here) is
    never needed; leaving it out of one row is refused, naming the axis."""
    bars = random_bars(300, seed=5)
    rows = [{"fast": 10, "slow": 30, "stop_loss": value} for value in (0.01, 0.03)]
    result = evaluate(bars, "sma_crossover", rows, EngineSettings(), workers=1)
    assert result.params["stop_loss"].tolist() == [0.01, 0.03]
    for row, (_, metrics) in zip(rows, result.metrics.iterrows(), strict=True):
        strategy = get_strategy("sma_crossover", {"fast": 10, "slow": 30})
        settings = EngineSettings(stop_loss=row["stop_loss"])
        want = metrics_from_result(run_backtest(bars, strategy.signals(bars), settings), bars)
        assert metrics["total_return_pct"] == pytest.approx(want["total_return_pct"], rel=RTOL)
    with pytest.raises(ParameterError, match="some combinations only") as err:
        evaluate(bars, "sma_crossover", [*rows, {"fast": 10, "slow": 30}], workers=1)
    assert err.value.details["parameter"] == "stop_loss"


@pytest.mark.parametrize(
    ("ranges", "settings", "message"),
    [
        ({"stop_loss": "0.5:1.5:0.5"}, {}, "setting axis 'stop_loss'"),
        ({"take_profit": [0.0, 0.1]}, {}, "outside its allowed range"),
        ({"size": [0.5, 2.0]}, {}, "size_type 'percent'"),
        ({"stop_loss": [0.01]}, {"stop_loss_atr": 2.0}, "'stop_loss' and 'stop_loss_atr'"),
        ({"stop_loss": [0.01], "stop_loss_atr": [1.0]}, {}, "both set"),
        ({"max_drawdown": "0.1:0.3"}, {}, "needs a step"),
        ({"stop_loss": [True]}, {}, "must be numbers"),
    ],
)
def test_setting_axes_are_validated_by_engine_settings_rules(ranges, settings, message) -> None:
    with pytest.raises(ParameterError, match=message) as err:
        ParameterSpace(
            strategy_class("sma_crossover"),
            {"fast": 10, "slow": 50, **ranges},
            settings=EngineSettings.from_dict(settings),
        )
    assert err.value.details["parameter"] in SETTING_AXES


def test_size_axis_follows_the_size_type() -> None:
    space = ParameterSpace(
        strategy_class("sma_crossover"),
        {"size": [500, 2500]},
        settings=EngineSettings(size_type="cash"),
    )
    assert space.axes[-1].values().tolist() == [500.0, 2500.0]


def test_unknown_names_list_the_setting_axes_and_atr_stop_points_to_stop_loss_atr() -> None:
    with pytest.raises(ParameterError) as err:
        ParameterSpace(strategy_class("sma_crossover"), {"atr_stop": [1.0, 2.0]})
    assert "did you mean 'stop_loss_atr'" in str(err.value)
    assert "take_profit" in str(err.value)
    with pytest.raises(ParameterError, match="did you mean 'take_profit'"):
        ParameterSpace(strategy_class("sma_crossover"), {"take_proft": [0.01]})


def test_cli_items_and_spec_ids_carry_the_axes() -> None:
    a = SweepSpec.from_dict(
        {"data": "GOOGL", "strategy": "sma_crossover", "ranges": ["stop_loss=0.01:0.05:0.01"]}
    )
    b = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": {"stop_loss": {"min": 0.01, "max": 0.05, "step": 0.01}},
        }
    )
    assert a.spec_id == b.spec_id
    assert plan_sweep(a).space.grid_size == 5


def test_api_sweep_requests_take_setting_axes() -> None:
    from tradesweep.services.execute import execute
    from tradesweep.services.submit import SweepRequest, request_fields, sweep_spec

    request = SweepRequest(
        ticker="GOOGL",
        strategy_type="SMA",
        fast_range=[10, 20],
        slow_range=[50, 50],
        step=10,
        ranges={"stop_loss": {"min": 0.01, "max": 0.03, "step": 0.01}, "take_profit": [0.05]},
    )
    spec = sweep_spec(request)
    space = plan_sweep(spec).space
    assert space.setting_names == ("stop_loss", "take_profit")
    assert space.grid_size == 2 * 1 * 3 * 1
    outcome = execute("sweep", spec.to_dict(), workers=1)  # what the worker runs
    assert len(outcome.rows) == 6
    assert {(r["params"]["stop_loss"], r["params"]["take_profit"]) for r in outcome.rows} == {
        (0.01, 0.05),
        (0.02, 0.05),
        (0.03, 0.05),
    }
    json.dumps(outcome.rows, allow_nan=False)
    bad = SweepRequest(
        ticker="GOOGL", strategy_type="SMA", fast_range=[10, 20], slow_range=[50, 60],
        ranges={"stop_loss": [1.5]},
    )  # fmt: skip
    with pytest.raises(ParameterError) as err, request_fields(bad):
        plan_sweep(sweep_spec(bad))
    assert err.value.details["path"] == "ranges.stop_loss"
    assert err.value.message.startswith("ranges.stop_loss: setting axis 'stop_loss'")


def test_cli_sweep_with_the_issue_example_names_settings_in_json_and_csv(
    tmp_path, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from tradesweep.cli.main import app

    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    out = tmp_path / "rows.csv"
    args = [
        "sweep", "-d", "GOOGL", "-s", "sma_crossover", "--range", "fast=10:30:5",
        "--range", "slow=50", "--range", "stop_loss=0.01:0.05:0.01",
        "--range", "take_profit=0.02,0.04,0.06", "--json", "--csv", str(out), "--top", "3",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["grid_combinations"] == 5 * 5 * 3
    assert set(payload["results"][0]["params"]) == {"fast", "slow", "stop_loss", "take_profit"}
    frame = pd.read_csv(out)
    assert len(frame) == 75
    assert sorted(frame["stop_loss"].unique()) == [0.01, 0.02, 0.03, 0.04, 0.05]
    assert sorted(frame["take_profit"].unique()) == [0.02, 0.04, 0.06]
    bad = CliRunner().invoke(app, [*args[:5], "--range", "atr_stop=1:3:1"])
    assert bad.exit_code == 2
    assert "did you mean 'stop_loss_atr'" in bad.output


@pytest.mark.parametrize("search", ["random", "bayes"])
def test_random_and_bayes_searches_sample_setting_axes(search) -> None:
    bars = random_bars(500, seed=11)
    spec = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": {"fast": "5:15:5", "slow": 40, "stop_loss": "0.01:0.05:0.01", "size": [0.5]},
            "search": search,
            "trials": 6,
            "seed": 3,
        }
    )
    swept = _Swept(spec, bars)
    frame = swept.result.results
    assert len(frame) == 6
    for _, row in frame.iterrows():
        assert_row_equals_backtest(row, bars, swept)


def test_walkforward_trades_each_window_with_its_chosen_settings() -> None:
    from tradesweep.engine.enums import ExitReason
    from tradesweep.specs import WalkForwardSpec
    from tradesweep.sweep.walkforward import backtest_test_window, make_windows, run_walkforward

    spec = WalkForwardSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": {"fast": [5, 10], "slow": 30, "take_profit": [0.01, 0.2]},
            "train_bars": 300,
            "test_bars": 150,
            "min_trades": 0,
        }
    )
    plan = plan_sweep(spec.sweep)
    bars = random_bars(750, seed=5)
    window = make_windows(len(bars), 300, 150, 150, False)[0]
    result = backtest_test_window(plan, bars, window, {"fast": 5, "slow": 30, "take_profit": 0.01})
    assert result.settings.take_profit == 0.01
    assert int(ExitReason.take_profit) in {int(r) for r in result.trades["exit_reason"]}
    walked = run_walkforward(spec, workers=1)
    chosen = [w.params for w in walked.windows if w.params is not None]
    assert chosen and all(p["take_profit"] in (0.01, 0.2) for p in chosen)
    assert {p["take_profit"] for p in chosen} == {0.01, 0.2}


def test_heatmaps_take_setting_axes() -> None:
    from tradesweep.reports.sweep_html import landscape_figure

    spec = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": {"fast": "10:30:10", "slow": 50, "stop_loss": "0.01:0.03:0.01"},
            "min_trades": 0,
        }
    )
    result = run_sweep(spec, workers=1)
    figure = landscape_figure(result, heatmap=("stop_loss", "fast"))
    assert figure is not None
    heat = figure.data[0]
    assert sorted(set(heat.x)) == [0.01, 0.02, 0.03]
    assert sorted(set(heat.y)) == [10, 20, 30]
