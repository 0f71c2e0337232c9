"""tradesweep's indicators next to TA-Lib, in both conventions: the figures of docs/indicators.md.

Run with ``make indicator-compare`` (or ``.venv/bin/python bench/indicator_compare.py``). Prints
Markdown tables. TA-Lib (``import talib``, a dev-only dependency) is imported here and in the
tests only, never from ``src/``.

For each bundled dataset (GOOGL daily, GOOGL resampled to months, EURUSD hourly) and each
indicator with its usual parameters it measures, against TA-Lib's output on the same closes:

* the first defined bar of each (``pandas`` convention / TA-Lib);
* the largest relative difference ``|ours - talib| / |talib|`` where both are defined (for MACD,
  whose values cross zero, ``|ours - talib| / close``), and at which bar (counted from TA-Lib's
  first value, 0-based) it occurs;
* from which bar (counted the same way) the difference stays below 1e-10 for good ("never"
  when it does not: the Bollinger bands' ddof is a lasting difference);
* the largest relative difference under ``indicator_convention="talib"``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import talib

import tradesweep.indicators as ti
from tradesweep.data import load_sample, resample_bars

TOL = 1e-10

Computed = Callable[[pd.DataFrame, str], np.ndarray]


def _close(bars: pd.DataFrame) -> np.ndarray:
    return bars["close"].to_numpy(dtype=np.float64)


def _hlc(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(bars[k].to_numpy(dtype=np.float64) for k in ("high", "low", "close"))  # type: ignore[return-value]


# name -> (ours(bars, convention), talib(bars), relative to the close instead of the value)
INDICATORS: dict[str, tuple[Computed, Callable[[pd.DataFrame], np.ndarray], bool]] = {
    "SMA(20)": (lambda b, c: ti.sma(_close(b), 20), lambda b: talib.SMA(_close(b), 20), False),
    "RSI(14)": (lambda b, c: ti.rsi(_close(b), 14), lambda b: talib.RSI(_close(b), 14), False),
    "EMA(12)": (
        lambda b, c: ti.ema(_close(b), 12, convention=c),
        lambda b: talib.EMA(_close(b), 12),
        False,
    ),
    "EMA(50)": (
        lambda b, c: ti.ema(_close(b), 50, convention=c),
        lambda b: talib.EMA(_close(b), 50),
        False,
    ),
    "EMA(200)": (
        lambda b, c: ti.ema(_close(b), 200, convention=c),
        lambda b: talib.EMA(_close(b), 200),
        False,
    ),
    "MACD(12,26,9) line": (
        lambda b, c: ti.macd(_close(b), 12, 26, 9, convention=c)[0],
        lambda b: talib.MACD(_close(b), 12, 26, 9)[0],
        True,
    ),
    "MACD(12,26,9) signal": (
        lambda b, c: ti.macd(_close(b), 12, 26, 9, convention=c)[1],
        lambda b: talib.MACD(_close(b), 12, 26, 9)[1],
        True,
    ),
    "MACD(12,26,9) hist": (
        lambda b, c: ti.macd(_close(b), 12, 26, 9, convention=c)[2],
        lambda b: talib.MACD(_close(b), 12, 26, 9)[2],
        True,
    ),
    "ATR(14)": (
        lambda b, c: ti.atr(b, 14, convention=c).to_numpy(),
        lambda b: talib.ATR(*_hlc(b), 14),
        False,
    ),
    "Bollinger(20, 2) upper": (
        lambda b, c: ti.bollinger(_close(b), 20, 2.0, convention=c)[1],
        lambda b: talib.BBANDS(_close(b), 20, 2.0, 2.0)[0],
        False,
    ),
    "Bollinger(20, 2) lower": (
        lambda b, c: ti.bollinger(_close(b), 20, 2.0, convention=c)[2],
        lambda b: talib.BBANDS(_close(b), 20, 2.0, 2.0)[2],
        False,
    ),
}


def datasets() -> dict[str, pd.DataFrame]:
    googl = load_sample("GOOGL")
    return {
        f"GOOGL daily ({len(googl):,} bars)": googl,
        "GOOGL monthly": resample_bars(googl, "1M"),
        "EURUSD hourly": load_sample("EURUSD"),
    }


def _first(x: np.ndarray) -> str:
    valid = np.flatnonzero(~np.isnan(x))
    return str(valid[0]) if valid.size else "-"


def _relative(ours: np.ndarray, theirs: np.ndarray, close: np.ndarray, by_close: bool):
    both = ~np.isnan(ours) & ~np.isnan(theirs)
    scale = np.abs(close) if by_close else np.abs(theirs)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(both, np.abs(ours - theirs) / scale, np.nan)
    return rel


def compare(bars: pd.DataFrame, name: str) -> list[str]:
    ours_of, theirs_of, by_close = INDICATORS[name]
    theirs = theirs_of(bars)
    close = _close(bars)
    start = np.flatnonzero(~np.isnan(theirs))
    if start.size == 0:
        return [name, "-", "-", "-", "-", "no value: too few bars"]
    first = int(start[0])
    pandas = np.asarray(ours_of(bars, "pandas"), dtype=np.float64)
    rel = _relative(pandas, theirs, close, by_close)[first:]
    worst = int(np.nanargmax(rel)) if np.isfinite(rel).any() else 0
    above = np.flatnonzero(rel > TOL)
    settles = "0" if above.size == 0 else str(above[-1] + 1)
    if above.size and above[-1] + 1 >= rel.size:
        settles = "never"
    talib_conv = np.asarray(ours_of(bars, "talib"), dtype=np.float64)
    rel_talib = _relative(talib_conv, theirs, close, by_close)
    same_nans = np.array_equal(np.isnan(talib_conv), np.isnan(theirs))
    return [
        name,
        f"{_first(pandas)} / {first}",
        f"{np.nanmax(rel) * 100:.3g} %",
        str(worst),
        settles,
        f"{np.nanmax(rel_talib):.1e}" + ("" if same_nans else " (NaNs differ)"),
    ]


HEADER = [
    "indicator",
    "first bar (pandas / TA-Lib)",
    "max rel. diff, pandas",
    "at bar",
    "< 1e-10 from bar",
    "max rel. diff, talib",
]


def table(bars: pd.DataFrame) -> str:
    rows = [HEADER, ["---"] * len(HEADER)]
    rows += [compare(bars, name) for name in INDICATORS]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main() -> None:
    print(f"TA-Lib {talib.__ta_version__.decode().split()[0]} (python talib {talib.__version__})")
    for title, bars in datasets().items():
        span = f"{bars.index[0]:%Y-%m-%d} to {bars.index[-1]:%Y-%m-%d}, {len(bars):,} bars"
        print(f"\n### {title.split(' (')[0]}: {span}\n")
        print(table(bars))


if __name__ == "__main__":
    main()
