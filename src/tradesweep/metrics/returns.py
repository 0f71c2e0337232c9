"""Return-based statistics of an equity curve: per-bar returns, CAGR, volatility, Sharpe,
Sortino, and the monthly returns table.

Every function returns ``None`` where its value is undefined (the reasons are listed in
:data:`tradesweep.metrics.NULL_REASONS` and ``docs/metrics.md``), never NaN or infinity.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradesweep.metrics.periods import as_utc_index

ZERO_STD = 1e-12
"""A per-bar standard deviation (or downside deviation) at or below this is zero.

Rounding leaves ~1e-17 of noise on returns that are equal in exact arithmetic (a constant
growth rate); dividing by it would give a ratio of 1e14. No traded series moves this little.
"""


def bar_returns(equity: np.ndarray, initial_cash: float) -> np.ndarray:
    """Per-bar simple returns ``r[t] = equity[t] / equity[t-1] - 1`` with
    ``equity[-1] = initial_cash``, so there is one return per bar and the first bar's return
    is measured from the starting cash.

    A return whose previous equity is zero or negative (ruin) is undefined: NaN. Pandas
    equivalent: ``pd.Series(np.r_[initial_cash, equity]).pct_change().iloc[1:]``.
    """
    equity = np.asarray(equity, dtype=np.float64)
    previous = np.concatenate(([float(initial_cash)], equity[:-1]))
    out = np.full(equity.shape, np.nan)
    alive = previous > 0
    out[alive] = equity[alive] / previous[alive] - 1.0
    return out


def total_return_pct(final_equity: float, initial_cash: float) -> float:
    """``(final_equity / initial_cash - 1) * 100``."""
    return (final_equity / initial_cash - 1.0) * 100.0


def annualized_return_pct(
    final_equity: float, initial_cash: float, bars: int, periods_per_year: float | None
) -> float | None:
    """Compound annual growth rate:
    ``((final_equity / initial_cash) ** (periods_per_year / bars) - 1) * 100``.

    Elapsed time is ``bars / periods_per_year`` years, the same clock that annualises the
    volatility, so CAGR is the geometric mean per-bar return compounded over a year of bars.
    A final equity at or below zero (ruin) gives -100. ``None`` without ``periods_per_year``
    or when the extrapolation overflows a float (a big gain over very few bars).
    """
    if periods_per_year is None or bars < 1:
        return None
    growth = final_equity / initial_cash
    if growth <= 0:
        return -100.0
    try:
        return (math.pow(growth, periods_per_year / bars) - 1.0) * 100.0
    except OverflowError:
        return None


def annualized_volatility_pct(returns: np.ndarray, periods_per_year: float | None) -> float | None:
    """``std(r, ddof=1) * sqrt(periods_per_year) * 100``.

    ``None`` with fewer than two returns, an undefined return (ruin) or no
    ``periods_per_year``. A flat equity curve has volatility 0.0.
    """
    if periods_per_year is None or not _usable(returns):
        return None
    return float(np.std(returns, ddof=1)) * math.sqrt(periods_per_year) * 100.0


def per_bar_risk_free(risk_free_rate: float, periods_per_year: float) -> float:
    """The annual risk-free rate (a fraction: 0.04 for 4 %) compounded down to one bar:
    ``(1 + risk_free_rate) ** (1 / periods_per_year) - 1``."""
    return math.pow(1.0 + risk_free_rate, 1.0 / periods_per_year) - 1.0


def sharpe_ratio(
    returns: np.ndarray, periods_per_year: float | None, risk_free_rate: float = 0.0
) -> float | None:
    """``mean(r - rf_bar) / std(r, ddof=1) * sqrt(periods_per_year)``, with ``rf_bar`` from
    :func:`per_bar_risk_free`.

    ``None`` with fewer than two returns, an undefined return, no ``periods_per_year``, or zero
    variance (``std <= ZERO_STD``: the ratio is 0/0 or unbounded).
    """
    if periods_per_year is None or not _usable(returns):
        return None
    std = float(np.std(returns, ddof=1))
    if std <= ZERO_STD:
        return None
    excess = returns - per_bar_risk_free(risk_free_rate, periods_per_year)
    return float(np.mean(excess)) / std * math.sqrt(periods_per_year)


def sortino_ratio(
    returns: np.ndarray, periods_per_year: float | None, risk_free_rate: float = 0.0
) -> float | None:
    """``mean(r - rf_bar) / sqrt(mean(min(r, 0) ** 2)) * sqrt(periods_per_year)``.

    The downside deviation is the root mean square of the negative returns over *all* bars
    (bars with ``r >= 0`` count as zero), with target 0 whatever the risk-free rate.
    ``None`` with fewer than two returns, an undefined return, no ``periods_per_year``, or no
    downside (``downside deviation <= ZERO_STD``: no losing bar, the ratio is unbounded).
    """
    if periods_per_year is None or not _usable(returns):
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside <= ZERO_STD:
        return None
    excess = returns - per_bar_risk_free(risk_free_rate, periods_per_year)
    return float(np.mean(excess)) / downside * math.sqrt(periods_per_year)


def _usable(returns: np.ndarray) -> bool:
    """At least two returns, all defined (no ruin)."""
    return returns.size >= 2 and bool(np.isfinite(returns).all())


def monthly_returns(
    index: pd.Index | np.ndarray | list,
    equity: np.ndarray,
    *,
    initial_cash: float | None = None,
) -> pd.DataFrame:
    """Year x month table of percent returns, compounded from month-end equity.

    ``table[y, m] = (E_end(y, m) / E_end(previous month with bars) - 1) * 100`` where
    ``E_end`` is the equity of the last bar of the month (UTC). The first month is measured
    from ``initial_cash`` (from the first bar's equity when ``initial_cash`` is None). Rows
    are years (int), columns the months 1..12 (int); a month without bars is NaN, and the
    cells multiply out to the total return: ``prod(1 + cell / 100) = E_final / initial_cash``.
    A month whose previous month-end equity is zero or negative is NaN (undefined).
    """
    idx = as_utc_index(index)
    values = np.asarray(equity, dtype=np.float64)
    if len(idx) != values.size:
        raise ValueError(f"index has {len(idx)} bars but equity has {values.size}")
    columns = pd.Index(range(1, 13), name="month")
    if values.size == 0:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="year"), dtype=float)
    month_end = pd.Series(values).groupby([idx.year, idx.month]).last()
    base = values[0] if initial_cash is None else float(initial_cash)
    pct = pd.Series(bar_returns(month_end.to_numpy(), base) * 100.0, index=month_end.index)
    table = pct.unstack()
    table.index.name = "year"
    table.columns.name = "month"
    return table.reindex(columns=columns)
