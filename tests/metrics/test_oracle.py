"""compute_metrics against a slow, obvious pandas/plain-Python oracle on random backtests."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesweep.engine.enums import trade_dt
from tradesweep.metrics import compute_metrics, infer_periods_per_year, monthly_returns

ZERO_STD = 1e-12  # the documented "zero variance" threshold


def oracle(
    index: pd.DatetimeIndex,
    equity: np.ndarray,
    position: np.ndarray,
    trades: np.ndarray,
    close: np.ndarray,
    cash: float,
    ppy: float | None,
    rf: float,
) -> dict[str, Any]:
    n = len(equity)
    if ppy is None and n >= 2:
        ppy = infer_periods_per_year(index)  # inference has its own tests
    eq = pd.Series(equity, index=index)
    r = pd.Series(np.r_[cash, equity]).pct_change().iloc[1:]
    usable = ppy is not None and n >= 2
    std = r.std(ddof=1) if n >= 2 else math.nan
    down = math.sqrt((r.clip(upper=0.0) ** 2).mean())
    excess_mean = (r - ((1 + rf) ** (1 / ppy) - 1)).mean() if ppy else math.nan
    try:
        cagr = ((equity[-1] / cash) ** (ppy / n) - 1) * 100 if ppy else None
    except OverflowError:
        cagr = None

    peak = eq.cummax().clip(lower=cash)
    dd = (eq / peak - 1).to_numpy()
    episodes = []  # (peak bar, end bar, trough)
    i = 0
    while i < n:
        if dd[i] < 0:
            j = i
            while j < n and dd[j] < 0:
                j += 1
            episodes.append((max(i - 1, 0), min(j, n - 1), dd[i:j].min()))
            i = j
        else:
            i += 1
    day = pd.Timedelta(days=1)
    mdd = min(dd.min(), 0.0) * 100

    t = pd.DataFrame(trades)
    wins, losses = t.pnl[t.pnl > 0], t.pnl[t.pnl < 0]
    growth = 1 + t.pnl_pct / 100
    held = ((index[t.exit_idx] - index[t.entry_idx]) / day).to_numpy()
    elapsed = (index[-1] - index[0]) / day
    some = len(t) > 0
    return {
        "start": index[0].isoformat(),
        "end": index[-1].isoformat(),
        "bars": n,
        "periods_per_year": ppy,
        "final_equity": equity[-1],
        "total_return_pct": (equity[-1] - cash) / cash * 100,
        "buy_and_hold_return_pct": (close[-1] - close[0]) / close[0] * 100,
        "annualized_return_pct": cagr,
        "annualized_volatility_pct": std * math.sqrt(ppy) * 100 if usable else None,
        "sharpe_ratio": excess_mean / std * math.sqrt(ppy) if usable and std > ZERO_STD else None,
        "sortino_ratio": excess_mean / down * math.sqrt(ppy)
        if usable and down > ZERO_STD
        else None,
        "calmar_ratio": cagr / abs(mdd) if cagr is not None and mdd != 0 else None,
        "max_drawdown_pct": mdd,
        "max_drawdown_duration_days": max(
            ((index[e] - index[p]) / day for p, e, _ in episodes), default=0.0
        ),
        "avg_drawdown_pct": np.mean([tr for *_, tr in episodes]) * 100 if episodes else 0.0,
        "total_trades": len(t),
        "win_rate_pct": len(wins) / len(t) * 100 if some else None,
        "profit_factor": wins.sum() / -losses.sum() if len(losses) else None,
        "expectancy_pct": t.pnl_pct.mean() if some else None,
        "avg_trade_pct": (growth.prod() ** (1 / len(t)) - 1) * 100
        if some and (growth > 0).all()
        else None,
        "best_trade_pct": t.pnl_pct.max() if some else None,
        "worst_trade_pct": t.pnl_pct.min() if some else None,
        "avg_win": wins.mean() if len(wins) else None,
        "avg_loss": losses.mean() if len(losses) else None,
        "largest_win": wins.max() if len(wins) else None,
        "largest_loss": losses.min() if len(losses) else None,
        "avg_trade_duration_days": held.mean() if some else None,
        "trades_per_month": len(t) / (elapsed / 30.4375) if elapsed > 0 else None,
        "exposure_pct": (position != 0).mean() * 100,
        "total_fees": t.fees.sum() if some else 0.0,
    }


@st.composite
def backtests(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 60))
    step = st.one_of(st.sampled_from([0.0, 0.01, -0.01]), st.floats(-0.6, 0.8))
    rets = np.array(draw(st.lists(step, min_size=n, max_size=n)))
    cash = draw(st.floats(1.0, 1e7))
    freq = draw(st.sampled_from(["D", "B", "h", "4h", "W-FRI", "ME"]))
    start = draw(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1)))
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    position = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, -2.5]), min_size=n, max_size=n)))
    close = np.array(draw(st.lists(st.floats(0.01, 1e4), min_size=n, max_size=n)))
    n_trades = draw(st.integers(0, 6))
    bars = st.integers(0, n - 1)
    pairs = [sorted(draw(st.tuples(bars, bars))) for _ in range(n_trades)]
    money = st.one_of(st.just(0.0), st.floats(-1e4, 1e4).filter(lambda x: abs(x) > 1e-9))
    trades = np.zeros(n_trades, dtype=trade_dt)
    trades["entry_idx"] = [a for a, _ in pairs]
    trades["exit_idx"] = [b for _, b in pairs]
    trades["pnl"] = draw(st.lists(money, min_size=n_trades, max_size=n_trades))
    trades["pnl_pct"] = draw(st.lists(st.floats(-150, 300), min_size=n_trades, max_size=n_trades))
    trades["fees"] = draw(st.lists(st.floats(0, 10), min_size=n_trades, max_size=n_trades))
    return {
        "index": index,
        "equity": cash * np.cumprod(1 + rets),
        "position": position,
        "trades": trades,
        "close": close,
        "cash": cash,
        "ppy": draw(st.one_of(st.none(), st.sampled_from([252.0, 365.0, 52.0, 6240.0]))),
        "rf": draw(st.sampled_from([0.0, 0.03, -0.01])),
    }


@settings(max_examples=150, deadline=None)
@given(backtests())
def test_compute_metrics_matches_the_oracle(case: dict[str, Any]) -> None:
    m = compute_metrics(
        case["index"],
        case["equity"],
        case["position"],
        case["trades"],
        case["close"],
        initial_cash=case["cash"],
        periods_per_year=case["ppy"],
        risk_free_rate=case["rf"],
    )
    expected = oracle(**case)
    for key, want in expected.items():
        got = m[key]
        if want is None or isinstance(want, str):
            assert got == want, key
        else:
            assert got == pytest.approx(float(want), rel=1e-9, abs=1e-9), key


@settings(max_examples=60, deadline=None)
@given(backtests())
def test_monthly_returns_match_a_resample_oracle(case: dict[str, Any]) -> None:
    eq = pd.Series(case["equity"], index=case["index"])
    month_end = eq.resample("ME").last().dropna()
    previous = month_end.shift(1).fillna(case["cash"])
    want = (month_end / previous - 1) * 100
    table = monthly_returns(case["index"], case["equity"], initial_cash=case["cash"])
    got = table.stack().dropna()
    assert got.to_numpy() == pytest.approx(want.to_numpy(), rel=1e-9, abs=1e-9)
    assert list(got.index) == [(ts.year, ts.month) for ts in want.index]
