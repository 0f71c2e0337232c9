"""Property test: the numba kernel equals the pure-Python reference simulator on random bars,
random signals and random settings (every field), and its accounts add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradesweep.engine import EngineSettings, run_backtest, simulate_reference, trade_dt
from tradesweep.strategies.base import Signals

INT_FIELDS = ("entry_idx", "exit_idx", "side", "bars_held", "exit_reason")
FLOAT_FIELDS = tuple(name for name in trade_dt.names if name not in INT_FIELDS)
RTOL = 1e-9
# Prices and signals come from numpy generators seeded by hypothesis: hypothesis' own simplest
# arrays (all zeros) make every signal fire together, where conflicts cancel them all.
SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def random_bars(draw) -> pd.DataFrame:
    """Valid OHLC (low <= open, close <= high) with jumps big enough to gap through stops."""
    n = draw(st.integers(2, 60))
    steps = np.random.default_rng(draw(SEEDS)).random((n, 4))
    volatility = draw(st.sampled_from([0.005, 0.03, 0.15]))
    close = 100.0
    rows = []
    for gap, move, up, down in steps:
        open_ = close * np.exp(volatility * (gap - 0.5))
        close = open_ * np.exp(2 * volatility * (move - 0.5))
        high = max(open_, close) * (1 + volatility * up)
        low = min(open_, close) * (1 - volatility * down)
        rows.append((open_, high, low, close, 1.0))
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    return pd.DataFrame(rows, index=index, columns=["open", "high", "low", "close", "volume"])


@st.composite
def random_signals(draw, n: int) -> Signals:
    rates = draw(st.lists(st.sampled_from([0.2, 0.05, 0.5, 0.0]), min_size=4, max_size=4))
    rng = np.random.default_rng(draw(SEEDS))
    return Signals(*(rng.random(n) < rate for rate in rates))


def optional(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), values)


@st.composite
def random_settings(draw) -> EngineSettings:
    size_type = draw(st.sampled_from(["percent", "cash", "units"]))
    size = {
        "percent": st.floats(0.2, 1.0),
        "cash": st.floats(10.0, 20_000.0),
        "units": st.floats(1.0, 300.0),
    }[size_type]

    def one_of_pair(fraction: st.SearchStrategy, multiple: st.SearchStrategy):
        kind = draw(st.sampled_from(["none", "fraction", "atr"]))
        if kind == "fraction":
            return draw(fraction), None
        if kind == "atr":
            return None, draw(multiple)
        return None, None

    stop_loss, stop_loss_atr = one_of_pair(st.floats(0.005, 0.5), st.floats(0.2, 5.0))
    take_profit, take_profit_atr = one_of_pair(st.floats(0.005, 2.0), st.floats(0.2, 8.0))
    trailing_stop, trailing_stop_atr = one_of_pair(st.floats(0.005, 0.5), st.floats(0.2, 5.0))
    return EngineSettings(
        cash=draw(st.floats(1000.0, 1e6)),
        fees=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.1))),
        fixed_fee=draw(st.one_of(st.just(0.0), st.floats(0.0, 20.0))),
        slippage=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.1))),
        fill=draw(st.sampled_from(["next_open", "close"])),
        direction=draw(st.sampled_from(["long_only", "short_only", "long_short"])),
        size=draw(size),
        size_type=size_type,
        fractional=draw(st.booleans()),
        stop_loss=stop_loss,
        stop_loss_atr=stop_loss_atr,
        take_profit=take_profit,
        take_profit_atr=take_profit_atr,
        trailing_stop=trailing_stop,
        trailing_stop_atr=trailing_stop_atr,
        atr_period=draw(st.integers(1, 20)),
        max_drawdown=draw(optional(st.floats(0.01, 0.9))),
        close_at_end=draw(st.booleans()),
    )


@st.composite
def cases(draw):
    bars = draw(random_bars())
    n = len(bars)
    given_atr = draw(st.booleans())
    atr = None
    if given_atr:
        atr = np.random.default_rng(draw(SEEDS)).uniform(0.01, 10.0, n)
        atr[: draw(st.integers(0, n))] = np.nan  # a warm-up of any length
    return bars, draw(random_signals(n)), draw(random_settings()), atr


def assert_same_result(fast, slow, cash: float) -> None:
    atol = 1e-9 * cash
    np.testing.assert_allclose(fast.equity, slow.equity, rtol=RTOL, atol=atol)
    np.testing.assert_allclose(fast.position, slow.position, rtol=RTOL, atol=1e-12)
    assert len(fast.trades) == len(slow.trades)
    for name in INT_FIELDS:
        np.testing.assert_array_equal(fast.trades[name], slow.trades[name], err_msg=name)
    for name in FLOAT_FIELDS:
        np.testing.assert_allclose(
            fast.trades[name], slow.trades[name], rtol=RTOL, atol=atol, err_msg=name
        )
    assert fast.stop_and_target_same_bar == slow.stop_and_target_same_bar
    np.testing.assert_allclose(fast.total_fees, slow.total_fees, rtol=RTOL, atol=atol)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_kernel_equals_reference(case) -> None:
    bars, signals, engine_settings, atr = case
    fast = run_backtest(bars, signals, engine_settings, atr=atr)
    slow = simulate_reference(bars, signals, engine_settings, atr=atr)
    assert_same_result(fast, slow, engine_settings.cash)
    assert_accounts_add_up(fast, engine_settings)


def assert_accounts_add_up(r, engine_settings: EngineSettings) -> None:
    """With no position left open, the trades' pnl adds up to the equity change and their
    fees to the total fees."""
    assert (r.trades["exit_idx"] >= r.trades["entry_idx"]).all()
    assert (r.trades["units"] > 0).all()
    if engine_settings.close_at_end:
        assert r.position[-1] == 0
    if r.position[-1] == 0:
        atol = 1e-9 * (engine_settings.cash + np.abs(r.trades["pnl"]).sum())
        total = engine_settings.cash + r.trades["pnl"].sum()
        np.testing.assert_allclose(r.equity[-1], total, rtol=RTOL, atol=atol)
        np.testing.assert_allclose(r.total_fees, r.trades["fees"].sum(), rtol=RTOL, atol=atol)
