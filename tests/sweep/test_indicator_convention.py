"""The ``indicator_convention`` spec field: it reaches the built-ins' indicators and the ATR
stops in single backtests, sweeps (fused and general paths) and walk-forward, changes the
spec_id, and leaves everything at the default (``pandas``) as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.errors import StrategyError
from tradesweep.indicators import nb
from tradesweep.metrics import metrics_from_result
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec, SpecError, SweepSpec, SweepSpecError, WalkForwardSpec
from tradesweep.strategies import get_strategy
from tradesweep.sweep.evaluate import METRIC_COLUMNS, evaluate
from tradesweep.sweep.fused import PANDAS_ONLY
from tradesweep.sweep.runner import run_sweep

RTOL = 1e-9
ATOL = 1e-10

COMBOS = {
    "ema_crossover": [{"fast": 5, "slow": 13}, {"fast": 12, "slow": 26}, {"fast": 20, "slow": 60}],
    "macd": [{}, {"fast": 5, "slow": 35, "signal": 5}, {"fast": 3, "slow": 10, "signal": 16}],
    "bollinger": [{}, {"period": 10, "num_std": 1.5}, {"period": 50, "num_std": 2.5}],
    "sma_crossover": [{"fast": 5, "slow": 20}, {"fast": 10, "slow": 50}],
    "rsi": [{}, {"period": 7, "oversold": 25, "overbought": 75}],
}
ATR_STOPS = {"stop_loss_atr": 1.5, "take_profit_atr": 2.0, "atr_period": 10}


def backtest_metrics(bars: pd.DataFrame, name: str, params: dict, settings, convention: str):
    strategy = get_strategy(name, params, indicator_convention=convention)
    result = run_backtest(bars, strategy.signals(bars), settings, indicator_convention=convention)
    return metrics_from_result(result, bars)


def assert_rows_equal(frame: pd.DataFrame, wants: list[dict], where: str) -> None:
    for i, want in enumerate(wants):
        for key in METRIC_COLUMNS:
            expected = np.nan if want[key] is None else float(want[key])
            actual = float(frame.iloc[i][key])
            assert (np.isnan(actual) and np.isnan(expected)) or np.isclose(
                actual, expected, rtol=RTOL, atol=ATOL
            ), f"{where} row {i} {key}: got {actual!r}, want {expected!r}"


# --- specs --------------------------------------------------------------------------------


def test_default_convention_keeps_the_canonical_json_and_spec_id() -> None:
    backtest = BacktestSpec.from_dict({"data": "GOOGL", "strategy": "macd"})
    assert "indicator_convention" not in backtest.to_dict()
    same = BacktestSpec.from_dict(
        {"data": "GOOGL", "strategy": "macd", "indicator_convention": "pandas"}
    )
    assert same.spec_id == backtest.spec_id
    sweep = SweepSpec.from_dict({"data": "GOOGL", "strategy": "macd", "ranges": {"fast": "5:9"}})
    assert "indicator_convention" not in sweep.to_dict()


def test_talib_convention_changes_every_spec_id_and_round_trips() -> None:
    base = {"data": "GOOGL", "strategy": "macd"}
    ranges = {**base, "ranges": {"fast": "5:9"}}
    for cls, data in (
        (BacktestSpec, base),
        (SweepSpec, ranges),
        (WalkForwardSpec, {**ranges, "train_bars": 500, "test_bars": 100}),
    ):
        pandas = cls.from_dict(data)
        talib = cls.from_dict({**data, "indicator_convention": "talib"})
        assert talib.spec_id != pandas.spec_id, cls.__name__
        assert talib.to_dict()["indicator_convention"] == "talib"
        assert cls.from_dict(talib.to_dict()).spec_id == talib.spec_id


@pytest.mark.parametrize(
    ("cls", "data", "error"),
    [
        (BacktestSpec, {"data": "GOOGL", "strategy": "macd"}, SpecError),
        (SweepSpec, {"data": "GOOGL", "strategy": "macd"}, SweepSpecError),
    ],
)
def test_an_unknown_convention_is_refused_naming_the_field(cls, data, error) -> None:
    with pytest.raises(error, match="indicator_convention") as info:
        cls.from_dict({**data, "indicator_convention": "ta-lib"})
    assert "did you mean 'talib'" in (info.value.fix or "")
    assert info.value.details["field"] == "indicator_convention"


# --- single backtests ---------------------------------------------------------------------


def test_backtest_spec_runs_the_strategy_and_atr_stops_in_its_convention(googl) -> None:
    data = {"data": "GOOGL", "strategy": "ema_crossover", "settings": ATR_STOPS}
    pandas = run_backtest_spec(BacktestSpec.from_dict(data))
    talib = run_backtest_spec(BacktestSpec.from_dict({**data, "indicator_convention": "talib"}))
    assert talib.strategy.indicator_convention == "talib"
    want = backtest_metrics(googl, "ema_crossover", {}, EngineSettings(**ATR_STOPS), "talib")
    assert talib.metrics["final_equity"] == pytest.approx(want["final_equity"], rel=1e-12)
    assert talib.metrics["final_equity"] != pandas.metrics["final_equity"]


def test_atr_stops_use_the_conventions_atr(googl) -> None:
    """sma_crossover's signals are the same in both conventions: only the stop ATR differs."""
    strategy = get_strategy("sma_crossover", {"fast": 5, "slow": 20})
    signals = strategy.signals(googl)
    settings = EngineSettings(**ATR_STOPS)
    h, lo, c = (googl[k].to_numpy() for k in ("high", "low", "close"))
    talib = run_backtest(googl, signals, settings, indicator_convention="talib")
    given = run_backtest(googl, signals, settings, atr=nb.atr_talib_nb(h, lo, c, 10))
    pandas = run_backtest(googl, signals, settings)
    assert np.array_equal(talib.equity, given.equity)
    assert not np.array_equal(talib.equity, pandas.equity)


# --- sweeps -------------------------------------------------------------------------------


SETTINGS = {
    "default": {},
    "atr_stops": ATR_STOPS,
    "long_short_close": {"direction": "long_short", "fill": "close", "fees": 0.001},
}


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("name", list(COMBOS))
@pytest.mark.parametrize("ticker", ["googl", "eurusd"])
def test_talib_sweep_rows_equal_single_backtests(ticker, name: str, setting: str, request) -> None:
    """The fused path reads TA-Lib's EMA and band-std rows (SMA and RSI have one definition)
    and the convention's stop ATR; MACD hands over to the general path. Either way each row
    equals a plain backtest in that convention, and so does the general path's."""
    bars = request.getfixturevalue(ticker)
    settings = EngineSettings(**SETTINGS[setting])
    combos = COMBOS[name]
    result = evaluate(bars, name, combos, settings, workers=1, indicator_convention="talib")
    assert result.path == ("general" if name in PANDAS_ONLY else "fused")
    wants = [backtest_metrics(bars, name, p, settings, "talib") for p in combos]
    where = f"talib {ticker} {name} {setting}"
    assert_rows_equal(result.metrics, wants, f"{where} ({result.path})")
    general = evaluate(
        bars, name, combos, settings, path="general", workers=1, indicator_convention="talib"
    )
    assert_rows_equal(general.metrics, wants, f"{where} (general)")
    if name in ("ema_crossover", "macd", "bollinger") or setting == "atr_stops":
        pandas = evaluate(bars, name, combos, settings, workers=1)  # not vacuous: they differ
        assert not np.array_equal(pandas.metrics["final_equity"], result.metrics["final_equity"])
    if result.path == "fused":
        f, g = result.block_stats, general.block_stats
        assert np.array_equal(f.count, g.count)
        assert np.allclose(f.sum_r, g.sum_r, rtol=RTOL, atol=1e-12)


def test_the_fused_path_is_refused_where_it_cannot_honour_talib(googl) -> None:
    with pytest.raises(StrategyError, match="no fused form under the 'talib'"):
        evaluate(googl, "macd", [{}], path="fused", indicator_convention="talib")
    pandas = evaluate(googl, "macd", COMBOS["macd"], workers=1)
    talib = evaluate(googl, "macd", COMBOS["macd"], workers=1, indicator_convention="talib")
    assert pandas.path == "fused"
    assert not np.allclose(pandas.metrics["final_equity"], talib.metrics["final_equity"])


def test_run_sweep_carries_the_convention_to_the_winner(googl) -> None:
    spec = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "bollinger",
            "ranges": {"period": [10, 20], "num_std": [1.5, 2.0]},
            "indicator_convention": "talib",
        }
    )
    result = run_sweep(spec, workers=1)
    assert result.path == "fused"
    best = result.results.iloc[0]
    params = {"period": int(best["period"]), "num_std": float(best["num_std"])}
    report = run_backtest_spec(
        BacktestSpec.from_dict(
            {"data": "GOOGL", "strategy": "bollinger", "params": params}
            | {"indicator_convention": "talib"}
        )
    )
    assert best["final_equity"] == pytest.approx(report.metrics["final_equity"], rel=1e-9)


def test_a_plugin_init_without_the_keyword_keeps_working_in_the_default(googl) -> None:
    from tradesweep.strategies.builtins.crossover import SmaCrossover
    from tradesweep.strategies.registry import instantiate

    class Old(SmaCrossover):
        def __init__(self, params=None):  # written before indicator_convention existed
            super().__init__(params)

    assert instantiate(Old, {"fast": 5, "slow": 20}).indicator_convention == "pandas"
    result = evaluate(googl, Old, [{"fast": 5, "slow": 20}], path="general", workers=1)
    assert result.metrics["total_trades"].iloc[0] > 0


def test_walkforward_trades_each_winner_in_the_convention(googl) -> None:
    from tradesweep.strategies import Signals
    from tradesweep.sweep.walkforward import run_walkforward

    spec = WalkForwardSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "bollinger",
            "ranges": {"period": [10, 20], "num_std": [1.5, 2.0]},
            "settings": ATR_STOPS,
            "train_bars": 300,
            "test_bars": 200,
            "indicator_convention": "talib",
        }
    )
    result = run_walkforward(spec, workers=1)
    h, lo, c = (googl[k].to_numpy() for k in ("high", "low", "close"))
    atr = nb.atr_talib_nb(h, lo, c, ATR_STOPS["atr_period"])
    settings = EngineSettings(**ATR_STOPS)
    for w in result.windows:
        part = slice(w.window.test_start, w.window.test_end)
        strategy = get_strategy("bollinger", w.params, indicator_convention="talib")
        full = strategy.signals(googl)  # causal: the same signals as on the history
        sliced = Signals(*(np.asarray(s)[part] for s in full))
        direct = run_backtest(googl.iloc[part], sliced, settings, atr=atr[part])
        np.testing.assert_array_equal(w.result.equity, direct.equity)
