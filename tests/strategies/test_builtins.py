"""Each built-in's rule against a slow, obvious oracle, on hand-made and random bars."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradesweep.errors import ParameterError
from tradesweep.indicators.nb import volume_profile_nb
from tradesweep.strategies import SignalFlag, get_strategy, list_strategies

LE, LX, SE, SX = (
    SignalFlag.LONG_ENTRY,
    SignalFlag.LONG_EXIT,
    SignalFlag.SHORT_ENTRY,
    SignalFlag.SHORT_EXIT,
)


def up(a, b, t: int) -> bool:
    return t > 0 and a[t] > b[t] and a[t - 1] <= b[t - 1]


def down(a, b, t: int) -> bool:
    return t > 0 and a[t] < b[t] and a[t - 1] >= b[t - 1]


def flags(rows: list[tuple[bool, bool, bool, bool]]) -> np.ndarray:
    weights = np.array([int(LE), int(LX), int(SE), int(SX)])
    return np.array([int(np.dot(weights, r)) for r in rows], dtype=np.int64)


def reversal_oracle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return flags([(up(a, b, t), down(a, b, t), down(a, b, t), up(a, b, t)) for t in range(len(a))])


def masked(x: pd.Series, first: int) -> np.ndarray:
    out = x.to_numpy(dtype=float).copy()
    out[:first] = np.nan
    return out


def wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    d = np.diff(close)
    gains, losses = np.maximum(d, 0.0), np.maximum(-d, 0.0)
    avg_g, avg_l = sum(gains[:period]) / period, sum(losses[:period]) / period
    for t in range(period, len(close)):
        if t > period:
            avg_g = (avg_g * (period - 1) + gains[t - 1]) / period
            avg_l = (avg_l * (period - 1) + losses[t - 1]) / period
        out[t] = 100.0 if avg_l == 0 else 100.0 - 100.0 / (1.0 + avg_g / avg_l)
    return out


def oracle(name: str, p: dict, bars: pd.DataFrame) -> np.ndarray:
    """The documented rule of each built-in, bar by bar, on pandas indicators."""
    close = bars["close"]
    c = close.to_numpy()
    n = len(c)
    if name == "sma_crossover":
        return reversal_oracle(
            close.rolling(p["fast"]).mean().to_numpy(), close.rolling(p["slow"]).mean().to_numpy()
        )
    if name == "ema_crossover":
        fast = masked(close.ewm(span=p["fast"], adjust=False).mean(), p["fast"] - 1)
        slow = masked(close.ewm(span=p["slow"], adjust=False).mean(), p["slow"] - 1)
        return reversal_oracle(fast, slow)
    if name == "macd":
        line = (
            close.ewm(span=p["fast"], adjust=False).mean()
            - close.ewm(span=p["slow"], adjust=False).mean()
        )
        hist = masked(
            line - line.ewm(span=p["signal"], adjust=False).mean(), p["slow"] + p["signal"] - 2
        )
        return reversal_oracle(hist, np.zeros(n))
    if name == "rsi":
        r, lo, hi = (
            wilder_rsi(c, p["period"]),
            np.full(n, p["oversold"]),
            np.full(n, p["overbought"]),
        )
        return flags(
            [
                (
                    up(r, lo, t) and not up(r, hi, t),
                    up(r, hi, t),
                    down(r, hi, t) and not down(r, lo, t),
                    down(r, lo, t),
                )
                for t in range(n)
            ]
        )
    if name == "bollinger":
        mid = close.rolling(p["period"]).mean().to_numpy()
        sd = close.rolling(p["period"]).std().to_numpy()
        upper, lower = mid + p["num_std"] * sd, mid - p["num_std"] * sd
        rows = []
        for t in range(n):
            wide = (upper[t] - lower[t]) / mid[t] >= p["min_bandwidth"]
            lx, sx = c[t] >= mid[t], c[t] <= mid[t]
            rows.append(
                (up(c, lower, t) and wide and not lx, lx, down(c, upper, t) and wide and not sx, sx)
            )
        return flags(rows)
    if name == "vwap":
        tp = (bars["high"] + bars["low"] + bars["close"]) / 3 * bars["volume"]
        if p["window"]:
            v = (
                tp.rolling(p["window"]).sum() / bars["volume"].rolling(p["window"]).sum()
            ).to_numpy()
        else:
            day = bars.index.floor("D")
            v = (tp.groupby(day).cumsum() / bars["volume"].groupby(day).cumsum()).to_numpy()
        th = p["threshold"]
        return flags(
            [
                (c[t] < v[t] * (1 - th), c[t] >= v[t], c[t] > v[t] * (1 + th), c[t] <= v[t])
                for t in range(n)
            ]
        )
    if name == "volume_profile":
        h, lo = bars["high"].to_numpy(), bars["low"].to_numpy()
        poc, val, vah = volume_profile_nb(
            h, lo, c, bars["volume"].to_numpy(), p["lookback"], p["bins"], p["value_area_pct"]
        )
        rows = [(False, False, False, False)]
        for t in range(1, n):
            lx, sx = c[t] >= poc[t - 1], c[t] <= poc[t - 1]
            le = lo[t] <= val[t - 1] < c[t] and not lx
            se = h[t] >= vah[t - 1] > c[t] and not sx
            rows.append((le, lx, se, sx))
        return flags(rows)
    if name == "grid":
        levels = list(np.linspace(p["lower"], p["upper"], p["levels"]))
        rows, held_long, held_short = [(False,) * 4], None, None
        for t in range(1, n):
            row = [False] * 4
            if held_long is not None:
                if c[t] > levels[held_long + 1]:
                    row[1], held_long = True, None
            else:
                hits = [k for k, lv in enumerate(levels[:-1]) if c[t - 1] >= lv > c[t]]
                if hits:
                    row[0], held_long = True, min(hits)
            if held_short is not None:
                if c[t] < levels[held_short - 1]:
                    row[3], held_short = True, None
            else:
                hits = [k for k, lv in enumerate(levels) if k > 0 and c[t - 1] <= lv < c[t]]
                if hits:
                    row[2], held_short = True, max(hits)
            rows.append(tuple(row))
        return flags(rows)
    raise AssertionError(name)


ORACLE_CASES = [
    ("sma_crossover", {"fast": 3, "slow": 8}),
    ("ema_crossover", {"fast": 3, "slow": 8}),
    ("macd", {"fast": 3, "slow": 8, "signal": 4}),
    ("rsi", {"period": 5, "oversold": 35.0, "overbought": 65.0}),
    ("bollinger", {"period": 8, "num_std": 1.0, "min_bandwidth": 0.0}),
    ("bollinger", {"period": 8, "num_std": 1.0, "min_bandwidth": 0.06}),
    ("vwap", {"threshold": 0.01, "window": 6}),
    ("vwap", {"threshold": 0.003, "window": 0}),
    ("volume_profile", {"lookback": 12, "bins": 6, "value_area_pct": 0.7}),
    ("grid", {"lower": 80.0, "upper": 120.0, "levels": 9}),
]


@pytest.mark.parametrize(
    ("name", "params"), ORACLE_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ORACLE_CASES)]
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_matches_oracle(name, params, seed, random_walk):
    bars = random_walk(400, seed, freq="4h")
    strategy = get_strategy(name, params)
    full = strategy.validate_params(params)
    expected = oracle(name, full, bars)
    got = strategy.signals(bars).flags()
    assert np.count_nonzero(expected) > 0
    assert np.array_equal(got, expected), np.flatnonzero(got != expected)[:5]


# --- hand-made scenarios --------------------------------------------------------------------


def fired(strategy, bars) -> dict[int, SignalFlag]:
    f = strategy.signals(bars).flags()
    return {int(t): SignalFlag(int(f[t])) for t in np.flatnonzero(f)}


def test_sma_crossover_fires_on_the_cross_bar_not_while_equal(bars_from):
    # fast = 2-bar SMA, slow = 3-bar SMA
    close = [3, 2, 1, 1, 1, 3, 3, 1]
    s = get_strategy("sma_crossover", {"fast": 2, "slow": 3})
    # bar 4: fast == slow == 1 (no cross); bar 5: fast 2 > slow 5/3, previous equal -> cross up
    assert fired(s, bars_from(close)) == {5: LE | SX, 7: LX | SE}


def test_rsi_long_after_oversold_and_out_at_overbought(bars_from):
    close = [10, 9, 8, 7, 6, 7, 8, 9, 10, 11, 12, 11, 10, 9, 8]
    s = get_strategy("rsi", {"period": 3, "oversold": 30, "overbought": 70})
    got = fired(s, bars_from(close))
    rsi = wilder_rsi(np.array(close, dtype=float), 3)
    assert rsi[4] == 0 and rsi[5] > 30  # back above oversold
    assert got[5] == LE
    assert LX in got[max(t for t in got if t < 11)]
    assert all(not (f & LE and f & LX) for f in got.values())


def test_bollinger_reenters_after_a_close_below_the_band(bars_from):
    close = [10, 10.2, 9.9, 10.1, 10, 9, 9.6, 10.3]
    s = get_strategy("bollinger", {"period": 4, "num_std": 1.0, "min_bandwidth": 0.0})
    got = fired(s, bars_from(close))
    assert got[6] & LE  # bar 5 closed below the lower band, bar 6 back inside
    assert got[7] & LX  # at or above the middle band
    wide_only = get_strategy("bollinger", {"period": 4, "num_std": 1.0, "min_bandwidth": 5.0})
    assert not any(f & (LE | SE) for f in fired(wide_only, bars_from(close)).values())


def test_vwap_threshold_is_strict(bars_from):
    close = [100.0, 100.0, 100.0, 98.0, 100.0]
    s = get_strategy("vwap", {"threshold": 0.01, "window": 3})
    got = fired(s, bars_from(close))
    assert got[3] & LE and got[4] & LX
    strict = get_strategy("vwap", {"threshold": 0.5, "window": 3})
    assert not any(f & LE for f in fired(strict, bars_from(close)).values())


def test_session_vwap_restarts_each_utc_day(bars_from):
    close = [100.0, 102.0, 104.0, 90.0, 91.0, 92.0]
    bars = bars_from(close, freq="8h", start="2024-01-01 00:00")  # 3 bars a day
    s = get_strategy("vwap", {"threshold": 0.001, "window": 0})
    got = fired(s, bars)
    assert got[0] & LX and got[0] & SX  # alone in its session: close == vwap
    assert got[3] & LX  # new day: vwap restarts at 90, no long entry from yesterday's level
    assert not got[3] & LE


def test_volume_profile_uses_the_previous_bars_profile(bars_from):
    lookback = 4
    # profile of bars 0..3: POC in the top bin (most volume at 12), VAL at 11.8
    close = [11.0, 12.0, 12.0, 12.0, 11.85, 12.5]
    low = [10.9, 11.9, 11.9, 11.9, 11.5, 12.4]
    high = [11.1, 12.1, 12.1, 12.1, 11.9, 12.6]
    bars = bars_from(close, high=high, low=low)
    s = get_strategy("volume_profile", {"lookback": lookback, "bins": 4, "value_area_pct": 0.5})
    poc, val, _ = volume_profile_nb(
        bars["high"].to_numpy(),
        bars["low"].to_numpy(),
        bars["close"].to_numpy(),
        bars["volume"].to_numpy(),
        lookback,
        4,
        0.5,
    )
    got = fired(s, bars)
    assert (
        got[4] & LE and not got[4] & LX
    )  # dips to yesterday's VAL, closes back above it, below the POC
    assert low[4] <= val[3] < close[4] < poc[3]
    assert got[5] & LX  # at or above yesterday's POC
    assert min(got) >= s.warmup_period() == lookback


def test_grid_buys_a_level_down_and_sells_a_level_up(bars_from):
    # levels 10, 20, 30
    close = [25, 19, 21, 29, 31, 35, 9]
    s = get_strategy("grid", {"lower": 10, "upper": 30, "levels": 3})
    got = fired(s, bars_from(close))
    assert got[1] == LE  # crossed down through 20: long, target 30
    assert got[2] == SE  # crossed up through 20: short, target 10
    assert got[4] == LX  # first close above 30
    assert got[6] & SX and got[6] & LE  # fell through 30 and 20 (enters at 20), below 10 covers
    assert 3 not in got and 5 not in got


# --- warm-up --------------------------------------------------------------------------------

SMALL = {
    "sma_crossover": {"fast": 2, "slow": 3},
    "ema_crossover": {"fast": 2, "slow": 3},
    "macd": {"fast": 2, "slow": 3, "signal": 2},
    "rsi": {"period": 2, "oversold": 40, "overbought": 60},
    "bollinger": {"period": 3, "num_std": 0.5},
    "vwap": {"threshold": 0.0, "window": 3},
    "volume_profile": {"lookback": 3, "bins": 3, "value_area_pct": 0.5},
    "grid": {"lower": 90, "upper": 110, "levels": 41},
}


@pytest.mark.parametrize("name", list_strategies())
def test_warmup_is_exactly_the_first_bar_that_can_fire(name, random_walk):
    strategy = get_strategy(name, SMALL[name])
    warmup = strategy.warmup_period()
    first = []
    for seed in range(60):
        bars = random_walk(warmup + 6, seed, step=0.03)
        f = strategy.signals(bars).flags()
        assert np.array_equal(strategy.stream(bars), f)  # parity right at the warm-up edge
        assert not f[:warmup].any()
        first.append(int(np.flatnonzero(f)[0]) if f.any() else math.inf)
    assert min(first) == warmup


def test_warmup_follows_the_parameters():
    assert get_strategy("sma_crossover", {"fast": 5, "slow": 50}).warmup_period() == 50
    assert get_strategy("macd").warmup_period() == 26 + 9 - 1
    assert get_strategy("rsi", {"period": 7}).warmup_period() == 8
    assert get_strategy("vwap", {"window": 0}).warmup_period() == 0


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("sma_crossover", {"fast": 30, "slow": 30}, "fast < slow"),
        ("ema_crossover", {"fast": 40}, "fast < slow"),
        ("macd", {"fast": 26}, "fast < slow"),
        ("rsi", {"oversold": 70, "overbought": 30}, "oversold < overbought"),
        ("grid", {"lower": 5, "upper": 5}, "lower < upper"),
        ("grid", {"levels": 1}, "outside its bounds"),
        ("sma_crossover", {"fast": 2.5}, "whole number"),
        ("bollinger", {"num_std": "wide"}, "must be a number"),
        ("bollinger", {"periods": 3}, "did you mean 'period'"),
    ],
)
def test_bad_parameters_are_refused(name, params, message):
    with pytest.raises(ParameterError, match=message):
        get_strategy(name, params)


def test_every_builtin_runs_on_a_single_bar(bars_from):
    for name in list_strategies():
        strategy = get_strategy(name)
        assert strategy.signals(bars_from([1.0])).flags().tolist() == [0]
        assert strategy.stream(bars_from([1.0])).tolist() == [0]
