"""A reusable check that a strategy's vectorised signals never look ahead.

For each cut point t, the signals of bars ``0..t`` must be the same whether the strategy sees
the whole frame, only ``bars[:t + 1]``, or a frame whose bars after t were replaced by a random
walk (prices and volumes perturbed; OHLC order kept). A strategy that reads ``close.shift(-1)``,
centres a rolling window, normalises by a full-sample statistic or fits anything on the whole
frame fails one of the three. Use it in a plugin's tests::

    from tradesweep.strategies.lookahead import assert_no_lookahead

    def test_my_strategy_is_causal(googl):
        assert_no_lookahead(MyStrategy(), googl, cut_points=[300, 1000, 2000])
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from tradesweep.strategies.base import SignalFlag, Strategy

PRICE_COLUMNS = ("open", "high", "low", "close")


class LookaheadError(AssertionError):
    """The signals up to some bar depend on bars after it."""


def default_cut_points(strategy: Strategy, n: int, count: int = 6) -> list[int]:
    """``count`` bars spread from just after the warm-up to the second-to-last bar."""
    first = min(max(strategy.warmup_period(), 1), n - 2)
    return sorted({int(t) for t in np.linspace(first, n - 2, count)})


def perturb_after(bars: pd.DataFrame, t: int, rng: np.random.Generator) -> pd.DataFrame:
    """A copy of ``bars`` with every bar after ``t`` moved by a random walk.

    Prices of each later bar are multiplied by one positive factor ``exp(cumsum(N(0, 5%)))``
    (so high >= open, close >= low still hold) and volumes by ``exp(N(0, 0.5))``.
    """
    out = bars.copy()
    m = len(bars) - t - 1
    if m <= 0:
        return out
    factor = np.exp(np.cumsum(rng.normal(0.0, 0.05, m)))
    for column in PRICE_COLUMNS:
        values = out[column].to_numpy(dtype=np.float64, copy=True)
        values[t + 1 :] *= factor
        out[column] = values
    volume = out["volume"].to_numpy(dtype=np.float64, copy=True)
    volume[t + 1 :] *= np.exp(rng.normal(0.0, 0.5, m))
    out["volume"] = volume
    return out


def assert_no_lookahead(
    strategy: Strategy,
    bars: pd.DataFrame,
    cut_points: Iterable[int] | None = None,
    *,
    trials: int = 2,
    seed: int = 0,
) -> None:
    """Raise :class:`LookaheadError` if the signals of bars ``0..t`` change when the bars after
    ``t`` are removed or randomly altered, for any ``t`` in ``cut_points`` (bar positions;
    negative ones count from the end; default: :func:`default_cut_points`)."""
    n = len(bars)
    if n < 3:
        raise ValueError("assert_no_lookahead needs at least 3 bars")
    full = strategy.signals(bars).flags()
    rng = np.random.default_rng(seed)
    points = default_cut_points(strategy, n) if cut_points is None else list(cut_points)
    for point in points:
        t = int(point) + (n if point < 0 else 0)
        if not 0 <= t < n:
            raise ValueError(f"cut point {point} is outside the {n} bars")
        truncated = strategy.signals(bars.iloc[: t + 1]).flags()
        _compare(strategy, bars, full, truncated, t, f"the bars after bar {t} were removed")
        for trial in range(trials):
            altered = strategy.signals(perturb_after(bars, t, rng)).flags()
            what = f"the bars after bar {t} were randomly altered (trial {trial + 1})"
            _compare(strategy, bars, full, altered, t, what)


def _compare(
    strategy: Strategy,
    bars: pd.DataFrame,
    full: np.ndarray,
    other: np.ndarray,
    t: int,
    what: str,
) -> None:
    expected = full[: t + 1]
    got = other[: t + 1]
    if len(got) == len(expected) and np.array_equal(expected, got):
        return
    if len(got) != len(expected):
        raise LookaheadError(
            f"strategy '{strategy.name}' returned {len(other)} signals when {what}; "
            f"expected at least {t + 1}"
        )
    bar = int(np.flatnonzero(expected != got)[0])
    raise LookaheadError(
        f"strategy '{strategy.name}' looks ahead: its signal on bar {bar} "
        f"({bars.index[bar]}) changed from {_name(expected[bar])} to {_name(got[bar])} when "
        f"{what}; a signal on bar t may only use bars 0..t"
    )


def _name(value: int) -> str:
    return SignalFlag(int(value)).name or str(int(value))
