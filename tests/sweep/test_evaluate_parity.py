"""The fused kernel, the general path and one plain backtest agree on every metric.

For each fused built-in, each bundled dataset and each engine setting that changes the
simulation, a seeded sample of combinations is evaluated three ways: ``evaluate`` on the fused
path, ``evaluate`` on the general path, and ``compute_metrics(run_backtest(...))`` per
combination. Every metric key must agree to 1e-9 relative (NaN where the reference is None),
and the block statistics must agree between the paths and add up to the whole series.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.metrics import bar_returns, metrics_from_result
from tradesweep.strategies import get_strategy
from tradesweep.sweep.evaluate import FUSED_STRATEGIES, METRIC_COLUMNS, evaluate

RTOL = 1e-9
ATOL = 1e-10  # for values that are 0 up to rounding (a drawdown of -1e-15 %)

SETTINGS = {
    "default": {},
    "costs": {"fees": 0.002, "fixed_fee": 1.0, "slippage": 0.0005},
    "fill_close": {"fill": "close", "fees": 0.001},
    "short_only": {"direction": "short_only", "fees": 0.001},
    "long_short": {"direction": "long_short", "slippage": 0.001},
    "cash_whole_units": {"size_type": "cash", "size": 5_000.0, "fractional": False},
    "fixed_units": {"size_type": "units", "size": 7.0, "direction": "long_short"},
    "half_percent_whole": {"size": 0.5, "fractional": False, "fees": 0.001},
    "stop_and_target": {"stop_loss": 0.01, "take_profit": 0.015, "direction": "long_short"},
    "atr_stops": {"stop_loss_atr": 1.5, "take_profit_atr": 2.0, "atr_period": 10},
    "trailing": {"trailing_stop": 0.02, "fill": "close"},
    "trailing_atr": {"trailing_stop_atr": 2.5, "direction": "long_short", "take_profit": 0.03},
    "drawdown_guard": {"max_drawdown": 0.05, "direction": "long_short", "fees": 0.001},
    "open_at_end": {"close_at_end": False, "fill": "close", "direction": "long_short"},
    "open_at_end_next_open": {"close_at_end": False, "stop_loss": 0.03},
}


def sample_combinations(name: str, rng: np.random.Generator, k: int) -> list[dict]:
    """``k`` random valid combinations of built-in ``name``, plus one that never trades
    where the strategy allows it (so the no-trade nulls are exercised)."""
    out: list[dict] = []
    for _ in range(k):
        if name in ("sma_crossover", "ema_crossover"):
            fast = int(rng.integers(2, 40))
            out.append({"fast": fast, "slow": int(rng.integers(fast + 1, fast + 80))})
        elif name == "rsi":
            out.append(
                {
                    "period": int(rng.integers(2, 30)),
                    "oversold": round(float(rng.uniform(10, 45)), 1),
                    "overbought": round(float(rng.uniform(55, 90)), 1),
                }
            )
        elif name == "macd":
            fast = int(rng.integers(2, 20))
            slow = int(rng.integers(fast + 1, fast + 30))
            out.append({"fast": fast, "slow": slow, "signal": int(rng.integers(2, 15))})
        else:
            out.append(
                {
                    "period": int(rng.integers(2, 50)),
                    "num_std": round(float(rng.uniform(0.5, 3.0)), 2),
                    "min_bandwidth": round(float(rng.uniform(0.0, 0.03)), 3),
                }
            )
    if name == "bollinger":
        out.append({"period": 20, "num_std": 2.0, "min_bandwidth": 10.0})  # never enters
    if name == "rsi":
        out.append({"period": 14, "oversold": 0.5, "overbought": 99.5})  # (almost) never
    return out


def reference(bars: pd.DataFrame, name: str, params: dict, settings: EngineSettings, **kw):
    """What one ``tradesweep backtest`` computes: metrics and the per-bar returns."""
    result = run_backtest(bars, get_strategy(name, params).signals(bars), settings)
    metrics = metrics_from_result(result, bars, **kw)
    return metrics, bar_returns(result.equity, settings.cash)


def assert_metrics_equal(got: pd.Series, want: dict, where: str) -> None:
    bad = []
    for key in METRIC_COLUMNS:
        expected = np.nan if want[key] is None else float(want[key])
        actual = float(got[key])
        if np.isnan(expected) or np.isnan(actual):
            if not (np.isnan(expected) and np.isnan(actual)):
                bad.append(f"{key}: got {actual!r}, want {expected!r}")
        elif not np.isclose(actual, expected, rtol=RTOL, atol=ATOL):
            bad.append(f"{key}: got {actual!r}, want {expected!r}")
    assert not bad, f"{where}: " + "; ".join(bad)


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("name", FUSED_STRATEGIES)
@pytest.mark.parametrize("ticker", ["googl", "eurusd"])
def test_fused_general_and_backtest_agree(ticker, name, setting, request):
    bars = request.getfixturevalue(ticker)
    settings = EngineSettings(**SETTINGS[setting])
    seed = zlib.crc32(f"{ticker} {name} {setting}".encode())
    combos = sample_combinations(name, np.random.default_rng(seed), 4)
    kw = {"risk_free_rate": 0.03} if setting == "costs" else {}
    fused = evaluate(bars, name, combos, settings, workers=2, **kw)
    general = evaluate(bars, name, combos, settings, path="general", workers=1, **kw)
    assert fused.path == "fused" and general.path == "general"
    for i, params in enumerate(combos):
        want, returns = reference(bars, name, params, settings, **kw)
        where = f"{ticker} {name} {params} {setting}"
        assert_metrics_equal(fused.metrics.iloc[i], want, "fused " + where)
        assert_metrics_equal(general.metrics.iloc[i], want, "general " + where)
        defined = returns[np.isfinite(returns)]
        for stats in (fused.block_stats, general.block_stats):
            assert stats.count[:, i].sum() == defined.size
            assert np.isclose(stats.sum_r[:, i].sum(), defined.sum(), rtol=RTOL, atol=1e-12)
            assert np.isclose(stats.sum_r2[:, i].sum(), (defined**2).sum(), rtol=RTOL)
    f, g = fused.block_stats, general.block_stats
    assert np.array_equal(f.count, g.count)
    assert np.allclose(f.sum_r, g.sum_r, rtol=RTOL, atol=1e-12)
    assert np.allclose(f.sum_r2, g.sum_r2, rtol=RTOL, atol=1e-15)


def test_blocks_follow_the_documented_split(googl):
    n = len(googl)
    result = evaluate(googl, "sma_crossover", [{"fast": 5, "slow": 20}], n_blocks=7, workers=1)
    counts = result.block_stats.count[:, 0]
    want = np.bincount(np.arange(n) * 7 // n, minlength=7)
    assert np.array_equal(counts, want)


def daily_bars(closes: list[float]) -> pd.DataFrame:
    """Bars with open = high = low = close, daily from 2024-01-01 UTC."""
    close = np.asarray(closes, dtype=np.float64)
    index = pd.date_range("2024-01-01", periods=close.size, freq="D", tz="UTC", name="timestamp")
    frame = {"open": close, "high": close, "low": close, "close": close, "volume": 1.0}
    return pd.DataFrame(frame, index=index)


def test_ruin_makes_return_metrics_null_on_both_paths():
    # a short into a rally to ten times the price: the equity goes below zero
    bars = daily_bars([100.0, 100.0, 100.0, 90.0, 95.0, 100.0, 400.0, 1000.0, 1200.0, 1100.0])
    combos = [{"fast": 2, "slow": 3}]
    settings = EngineSettings(direction="short_only")
    fused = evaluate(bars, "sma_crossover", combos, settings, n_blocks=2, workers=1)
    general = evaluate(bars, "sma_crossover", combos, settings, path="general", workers=1)
    want, returns = reference(bars, "sma_crossover", combos[0], settings)
    assert not np.isfinite(returns).all(), "the case must reach ruin"
    assert_metrics_equal(fused.metrics.iloc[0], want, "fused")
    assert_metrics_equal(general.metrics.iloc[0], want, "general")
    assert fused.block_stats.count.sum() == np.isfinite(returns).sum()


def plateau_bars() -> pd.DataFrame:
    """Flat stretches (where every moving average, band and RSI ties exactly) broken by
    steps up and down, so crosses start from ties: ``<=`` versus ``<`` on the previous bar
    matters here."""
    levels = [100.0] * 40 + [104.0] * 30 + [100.0] * 30 + [96.0] * 30 + [100.0] * 40
    wiggle = np.tile([0.0, 0.5, 0.0, -0.5], 60)[:170] * (np.arange(170) % 50 > 35)
    return daily_bars(list(np.asarray(levels) + wiggle))


@pytest.mark.parametrize("name", FUSED_STRATEGIES)
@pytest.mark.parametrize("setting", ["default", "long_short", "fill_close", "stop_and_target"])
def test_ties_and_plateaus(name, setting):
    bars = plateau_bars()
    settings = EngineSettings(**SETTINGS[setting])
    combos = {
        "sma_crossover": [{"fast": 2, "slow": 5}, {"fast": 3, "slow": 10}],
        "ema_crossover": [{"fast": 2, "slow": 5}, {"fast": 3, "slow": 10}],
        "rsi": [{"period": 3, "oversold": 50.0, "overbought": 60.0}, {"period": 5}],
        "macd": [{"fast": 2, "slow": 4, "signal": 2}, {"fast": 3, "slow": 8, "signal": 3}],
        "bollinger": [{"period": 3, "num_std": 1.0}, {"period": 5, "min_bandwidth": 0.01}],
    }[name]
    fused = evaluate(bars, name, combos, settings, n_blocks=4, workers=1)
    for i, params in enumerate(combos):
        want, _ = reference(bars, name, params, settings)
        assert want["total_trades"] > 0, "the case must trade"
        assert_metrics_equal(fused.metrics.iloc[i], want, f"{name} {params} {setting}")
