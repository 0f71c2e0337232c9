"""Where tradesweep's definition matches a peer's, the numbers must match too (the
differences are listed in docs/metrics.md). Peers are test oracles only, never imported
from src/."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tradesweep.metrics.drawdown import drawdown_series, max_drawdown_pct
from tradesweep.metrics.returns import (
    annualized_return_pct,
    annualized_volatility_pct,
    bar_returns,
    sharpe_ratio,
    sortino_ratio,
)
from tradesweep.metrics.trades import geometric_mean_pct

pytestmark = pytest.mark.slow  # importing vectorbt takes seconds

rnb = pytest.importorskip("vectorbt.returns.nb")

returns_arrays = arrays(
    np.float64, st.integers(2, 80), elements=st.floats(-0.5, 0.5, allow_subnormal=False)
)


@settings(max_examples=50, deadline=None)
@given(returns_arrays, st.sampled_from([12.0, 52.0, 252.0, 365.0, 6240.0]))
def test_return_statistics_match_vectorbt(r: np.ndarray, ppy: float) -> None:
    equity = 1000.0 * np.cumprod(1 + r)
    ours = bar_returns(equity, 1000.0)
    assert ours == pytest.approx(r, rel=1e-9, abs=1e-12)
    if np.std(ours, ddof=1) > 1e-12:
        assert sharpe_ratio(ours, ppy) == pytest.approx(rnb.sharpe_ratio_1d_nb(ours, ppy))
    if (ours < 0).any():
        want = rnb.sortino_ratio_1d_nb(ours.copy(), ppy)
        assert sortino_ratio(ours, ppy) == pytest.approx(want)
    # abs: constant returns leave a rounding-noise std of ~1e-12 %, which differs by summation order
    assert annualized_volatility_pct(ours, ppy) == pytest.approx(
        rnb.annualized_volatility_1d_nb(ours, ppy) * 100, abs=1e-9
    )
    cagr = annualized_return_pct(equity[-1], 1000.0, r.size, ppy)
    if cagr is not None and abs(cagr) < 1e12:
        assert cagr == pytest.approx(rnb.annualized_return_1d_nb(ours, ppy) * 100, rel=1e-7)


@settings(max_examples=50, deadline=None)
@given(returns_arrays)
def test_max_drawdown_matches_vectorbt_once_the_initial_cash_is_a_peak(r: np.ndarray) -> None:
    # vectorbt's returns drawdown peaks from the first bar's value; a leading zero return puts
    # the initial cash in its series as the first peak, which is our definition.
    ours = max_drawdown_pct(drawdown_series(1000.0 * np.cumprod(1 + r), 1000.0))
    assert ours == pytest.approx(rnb.max_drawdown_1d_nb(np.r_[0.0, r]) * 100, abs=1e-9)


def test_geometric_mean_trade_matches_backtesting_py() -> None:
    stats = pytest.importorskip("backtesting._stats")
    pnl_pct = np.array([2.0, -1.0, 0.0, 4.0, -4.0])
    want = stats.geometric_mean(pd.Series(pnl_pct / 100)) * 100
    assert geometric_mean_pct(pnl_pct) == pytest.approx(want)
