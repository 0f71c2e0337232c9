"""Seeded synthetic OHLCV bars from geometric Brownian motion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradesweep.data.contract import BAR_COLUMNS, INDEX_NAME, TIME_UNIT
from tradesweep.data.interval import parse_rule
from tradesweep.errors import DataError

_YEAR = pd.Timedelta(days=365.25)


def synthetic_bars(
    n_bars: int,
    *,
    seed: int = 0,
    interval: str = "1D",
    start: str | pd.Timestamp = "2000-01-01",
    s0: float = 100.0,
    drift: float = 0.05,
    volatility: float = 0.2,
    ticker: str = "SYN",
) -> pd.DataFrame:
    """``n_bars`` bars of GBM, identical for the same arguments.

    Log close-to-close returns are ``(drift - volatility**2 / 2) dt + volatility sqrt(dt) Z``
    with ``dt`` the interval in years of 365.25 days (bars run round the clock, no weekends).
    Open is the previous close times a small gap (a tenth of the bar's volatility); high and
    low reach beyond max/min(open, close) by half-normal excursions of the bar's volatility;
    volume is lognormal around 1e6, higher on bigger moves. ``start`` is taken as UTC.
    """
    step = _interval(interval)
    if n_bars < 1:
        raise DataError(f"n_bars must be at least 1, got {n_bars}", fix="e.g. 1000", n_bars=n_bars)
    if s0 <= 0 or volatility < 0:
        raise DataError(
            f"need s0 > 0 and volatility >= 0, got s0={s0}, volatility={volatility}",
            fix="e.g. s0=100, volatility=0.2",
        )
    index = _index(start, step, n_bars)
    rng = np.random.default_rng(seed)
    dt = step / _YEAR
    bar_vol = volatility * np.sqrt(dt)
    shocks = rng.standard_normal((4, n_bars))
    log_close = np.log(s0) + np.cumsum((drift - volatility**2 / 2) * dt + bar_vol * shocks[0])
    close = np.exp(log_close)
    previous = np.empty(n_bars)
    previous[0] = s0
    previous[1:] = close[:-1]
    open_ = previous * np.exp(0.1 * bar_vol * shocks[1])
    high = np.maximum(open_, close) * np.exp(0.5 * bar_vol * np.abs(shocks[2]))
    low = np.minimum(open_, close) * np.exp(-0.5 * bar_vol * np.abs(shocks[3]))
    move = np.abs(shocks[0])
    volume = np.round(np.exp(np.log(1e6) + 0.4 * rng.standard_normal(n_bars)) * (0.5 + move))
    bars = pd.DataFrame(
        dict(zip(BAR_COLUMNS, (open_, high, low, close, volume), strict=True)), index=index
    )
    bars.attrs = {"ticker": ticker, "source": f"synthetic:seed={seed}", "synthetic": True}
    return bars


def _interval(interval: str) -> pd.Timedelta:
    offset = parse_rule(interval)
    if isinstance(offset, pd.offsets.Week):
        return pd.Timedelta(weeks=offset.n)
    try:
        step = pd.Timedelta(offset)
    except ValueError:
        raise DataError(
            f"synthetic bars need a fixed interval, not {interval!r}",
            fix="use s, m, h, D or W, e.g. 1h or 1D",
            interval=interval,
        ) from None
    return step


def _index(start: str | pd.Timestamp, step: pd.Timedelta, n_bars: int) -> pd.DatetimeIndex:
    try:
        first = pd.Timestamp(start)
    except ValueError:
        raise DataError(
            f"start {start!r} is not a date", fix="e.g. 2000-01-01", start=str(start)
        ) from None
    first = first.tz_localize("UTC") if first.tzinfo is None else first.tz_convert("UTC")
    if first.as_unit(TIME_UNIT).value + (n_bars - 1) * step.value > pd.Timestamp.max.value:
        raise DataError(
            f"{n_bars} bars of {step} from {first.date()} run past {pd.Timestamp.max.date()}",
            fix="use fewer bars, a shorter interval or an earlier start",
            n_bars=n_bars,
        )
    stamps = first.as_unit(TIME_UNIT).value + np.arange(n_bars, dtype=np.int64) * step.value
    return pd.DatetimeIndex(stamps.view("datetime64[ns]"), name=INDEX_NAME).tz_localize("UTC")
