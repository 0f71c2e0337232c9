"""Incremental indicators for the bar-by-bar strategy form.

Each object takes one bar per :meth:`update` and returns what the matching kernel in
:mod:`tradesweep.indicators.nb` returns at that bar, bit for bit (strategies compare
indicators for crossovers, where a last-bit difference flips a signal). To make that hold by
construction the scalar steps are the kernels' own helpers run as plain Python
(``helper.py_func``: the same IEEE double operations in the same order; numba runs without
fastmath), and the O(window) steps call the compiled window helpers on a buffer that holds
the window contiguously. ``reset()`` returns an object to its freshly built state.

EMA, MACD, ATR and Bollinger take ``convention`` (``"pandas"`` or ``"talib"``) and then equal
the matching kernel (``ema_nb`` or ``ema_talib_nb``, ...).

Cost per update: O(1) for SMA, EMA, MACD, RSI, ATR and VWAP; O(window) for Bollinger (the std
is recomputed over the window for accuracy); O(lookback + bins) for the volume profile.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque

import numpy as np

from tradesweep.indicators import nb
from tradesweep.indicators.api import check_real, check_window
from tradesweep.indicators.convention import DEFAULT_CONVENTION, check_convention

_neumaier_add = nb.neumaier_add.py_func
_ewm_alpha = nb.ewm_alpha.py_func
_ewm_step = nb.ewm_step.py_func
_wilder_step = nb.wilder_step.py_func
_rsi_step = nb.rsi_step.py_func
_true_range = nb.true_range.py_func
_typical_price = nb.typical_price.py_func
_talib_k = nb.talib_k.py_func
_talib_ema_step = nb.talib_ema_step.py_func


def mean_in_order(values: list[float] | deque[float]) -> float:
    """``sum / len`` summed left to right, as :func:`~tradesweep.indicators.nb.mean_of`."""
    total = 0.0
    for v in values:
        total += v
    return total / len(values)


NAN = math.nan
Triple = tuple[float, float, float]


class WindowBuffer:
    """The last ``size`` values, always readable as the contiguous slice ``buf[start:stop]``.

    Each value is written twice, ``size`` apart, in an array of ``2 * size``.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.buf = np.full(2 * size, np.nan)
        self.pos = 0
        self.count = 0

    def push(self, value: float) -> None:
        self.buf[self.pos] = value
        self.buf[self.pos + self.size] = value
        self.pos = (self.pos + 1) % self.size
        self.count += 1

    @property
    def start(self) -> int:
        """Index of the oldest value of a full window (``stop = start + size``)."""
        return self.pos

    def reset(self) -> None:
        self.buf.fill(np.nan)
        self.pos = 0
        self.count = 0


class StreamingSMA:
    """Bar-by-bar :func:`~tradesweep.indicators.nb.sma_nb`."""

    def __init__(self, window: int) -> None:
        self.window = check_window("window", window)
        self.reset()

    def reset(self) -> None:
        self._values: deque[float] = deque()
        self._total = 0.0
        self._comp = 0.0
        self._nans = 0

    def update(self, value: float) -> float:
        v = float(value)
        if v == v:
            self._total, self._comp = _neumaier_add(self._total, self._comp, v)
        else:
            self._nans += 1
        self._values.append(v)
        if len(self._values) > self.window:
            old = self._values.popleft()
            if old == old:
                self._total, self._comp = _neumaier_add(self._total, self._comp, -old)
            else:
                self._nans -= 1
        if len(self._values) == self.window and self._nans == 0:
            return (self._total + self._comp) / self.window
        return NAN


class StreamingEMA:
    """Bar-by-bar :func:`~tradesweep.indicators.nb.ema_nb` (pandas ``adjust=False``, defined
    from the first value), or :func:`~tradesweep.indicators.nb.ema_talib_nb` with
    ``convention="talib"`` (NaN until ``span`` values are seen, then seeded with their mean)."""

    def __init__(self, span: int, *, convention: str = DEFAULT_CONVENTION) -> None:
        self.span = check_window("span", span)
        self.convention = check_convention(convention, "convention")
        self._alpha = _ewm_alpha(self.span)
        self._k = _talib_k(self.span)
        self.reset()

    def reset(self) -> None:
        self._weighted = NAN
        self._old_wt = 1.0
        self._seen = 0
        self._total = 0.0

    def update(self, value: float) -> float:
        if self.convention == "talib":
            return self._update_talib(float(value))
        self._weighted, self._old_wt = _ewm_step(
            self._weighted, self._old_wt, float(value), self._alpha
        )
        return float(self._weighted)

    def _update_talib(self, v: float) -> float:
        if self._seen == 0 and v != v:
            return NAN
        self._seen += 1
        if self._seen < self.span:
            self._total += v
            return NAN
        if self._seen == self.span:
            self._weighted = (self._total + v) / self.span
        else:
            self._weighted = _talib_ema_step(self._weighted, v, self._k)
        return float(self._weighted)


class StreamingMACD:
    """Bar-by-bar :func:`~tradesweep.indicators.nb.macd_nb` (or ``macd_talib_nb`` with
    ``convention="talib"``); ``update`` returns ``(line, signal, hist)``."""

    def __init__(
        self,
        fast: int = 12,
        slow: int = 26,
        signal: int = 9,
        *,
        convention: str = DEFAULT_CONVENTION,
    ) -> None:
        self.fast = check_window("fast", fast)
        self.slow = check_window("slow", slow)
        self.signal = check_window("signal", signal)
        self.convention = check_convention(convention, "convention")
        self._short, self._long = sorted((self.fast, self.slow))  # TA-Lib swaps them
        self._k = (_talib_k(self._short), _talib_k(self._long), _talib_k(self.signal))
        self._fast = StreamingEMA(self.fast)
        self._slow = StreamingEMA(self.slow)
        self._signal = StreamingEMA(self.signal)
        self._line_warm = max(self.fast, self.slow) - 1
        self._signal_warm = self._line_warm + self.signal - 1
        self.reset()

    def reset(self) -> None:
        self._fast.reset()
        self._slow.reset()
        self._signal.reset()
        self._t = 0
        self._closes: deque[float] = deque()  # talib: the first ``slow`` closes
        self._lines: deque[float] = deque()  # talib: the first ``signal`` lines
        self._ema_fast = NAN
        self._ema_slow = NAN
        self._ema_signal = NAN
        self._seeded = False

    def update(self, value: float) -> Triple:
        if self.convention == "talib":
            return self._update_talib(float(value))
        line = self._fast.update(value) - self._slow.update(value)
        signal = self._signal.update(line)
        t = self._t
        self._t += 1
        if t < self._line_warm:
            return NAN, NAN, NAN
        if t < self._signal_warm:
            return line, NAN, NAN
        return line, signal, line - signal

    def _update_talib(self, c: float) -> Triple:
        k_fast, k_slow, k_signal = self._k
        if self._seeded:
            self._ema_fast = _talib_ema_step(self._ema_fast, c, k_fast)
            self._ema_slow = _talib_ema_step(self._ema_slow, c, k_slow)
        else:
            if not self._closes and c != c:
                return NAN, NAN, NAN
            self._closes.append(c)
            if len(self._closes) < self._long:
                return NAN, NAN, NAN
            closes = list(self._closes)
            self._ema_fast = mean_in_order(closes[self._long - self._short :])
            self._ema_slow = mean_in_order(closes)
            self._seeded = True
        line = self._ema_fast - self._ema_slow
        if len(self._lines) < self.signal:
            self._lines.append(line)
            if len(self._lines) < self.signal:
                return NAN, NAN, NAN
            self._ema_signal = mean_in_order(self._lines)
        else:
            self._ema_signal = _talib_ema_step(self._ema_signal, line, k_signal)
        return line, self._ema_signal, line - self._ema_signal


class StreamingRSI:
    """Bar-by-bar :func:`~tradesweep.indicators.nb.rsi_nb` (Wilder, simple-mean seed)."""

    def __init__(self, period: int = 14) -> None:
        self.period = check_window("period", period)
        self.reset()

    def reset(self) -> None:
        self._prev = NAN
        self._seen = 0
        self._sum_gain = 0.0
        self._sum_loss = 0.0
        self._avg_gain = 0.0
        self._avg_loss = 0.0

    def update(self, value: float) -> float:
        c = float(value)
        if self._seen == 0 and self._prev != self._prev:
            if c == c:
                self._prev = c
            return NAN
        d = c - self._prev
        self._prev = c
        if d != d:
            gain = loss = NAN
        elif d > 0.0:
            gain, loss = d, 0.0
        else:
            gain, loss = 0.0, -d
        self._seen += 1
        period = self.period
        if self._seen < period:
            self._sum_gain += gain
            self._sum_loss += loss
            return NAN
        if self._seen == period:
            self._avg_gain = (self._sum_gain + gain) / period
            self._avg_loss = (self._sum_loss + loss) / period
        else:
            self._avg_gain = _wilder_step(self._avg_gain, gain, period)
            self._avg_loss = _wilder_step(self._avg_loss, loss, period)
        if self._avg_gain != self._avg_gain or self._avg_loss != self._avg_loss:
            return NAN
        return float(_rsi_step(self._avg_gain, self._avg_loss))


class StreamingBollinger:
    """Bar-by-bar :func:`~tradesweep.indicators.nb.bollinger_nb` (or ``bollinger_talib_nb``
    with ``convention="talib"``); ``update`` returns ``(middle, upper, lower)``. O(window) per
    update."""

    def __init__(
        self, window: int = 20, num_std: float = 2.0, *, convention: str = DEFAULT_CONVENTION
    ) -> None:
        self.window = check_window("window", window)
        self.num_std = check_real("num_std", num_std, low=0.0, high=math.inf, low_open=False)
        self.convention = check_convention(convention, "convention")
        self._ddof = 0 if self.convention == "talib" else 1  # as bollinger(_talib)_nb
        self._sma = StreamingSMA(self.window)
        self._buffer = WindowBuffer(self.window)

    def reset(self) -> None:
        self._sma.reset()
        self._buffer.reset()

    def update(self, value: float) -> Triple:
        v = float(value)
        m = self._sma.update(v)
        self._buffer.push(v)
        if m != m:
            return NAN, NAN, NAN
        start = self._buffer.start
        sd = nb.window_std_ddof(self._buffer.buf, start, start + self.window, m, self._ddof)
        return m, m + self.num_std * sd, m - self.num_std * sd


class StreamingATR:
    """Bar-by-bar :func:`~tradesweep.indicators.nb.atr_nb` (Wilder, simple-mean seed), or
    ``atr_talib_nb`` with ``convention="talib"`` (no true range on the first bar)."""

    def __init__(self, period: int = 14, *, convention: str = DEFAULT_CONVENTION) -> None:
        self.period = check_window("period", period)
        self.convention = check_convention(convention, "convention")
        self.reset()

    def reset(self) -> None:
        self._prev = NAN
        self._seen = 0
        self._total = 0.0
        self._atr = 0.0
        self._started = False

    def update(self, high: float, low: float, close: float) -> float:
        h, lo, c = float(high), float(low), float(close)
        if not self._started:
            if h != h or lo != lo or c != c:
                return NAN
            self._started = True
            if self.convention == "talib":
                self._prev = c  # TA-Lib has no true range on the first bar
                return NAN
            tr = h - lo
        else:
            tr = float(_true_range(h, lo, self._prev))
        self._prev = c
        self._seen += 1
        period = self.period
        if self._seen < period:
            self._total += tr
            return NAN
        if self._seen == period:
            self._atr = (self._total + tr) / period
        else:
            self._atr = _wilder_step(self._atr, tr, period)
        return self._atr


def utc_day(timestamp: dt.datetime | np.datetime64) -> dt.date:
    """UTC calendar day of a timestamp (naive ones are read as UTC), as the wrappers use."""
    if isinstance(timestamp, np.datetime64):
        return timestamp.astype("datetime64[D]").item()
    if timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(dt.UTC)
    return timestamp.date()


class StreamingVWAP:
    """Bar-by-bar VWAP: :func:`~tradesweep.indicators.nb.vwap_session_nb` with sessions by
    UTC calendar day when ``window`` is None, else
    :func:`~tradesweep.indicators.nb.vwap_rolling_nb` (the timestamp is then unused)."""

    def __init__(self, window: int | None = None) -> None:
        self.window = None if window is None else check_window("window", window)
        self.reset()

    def reset(self) -> None:
        self._day: dt.date | None = None
        self._pv = 0.0
        self._pv_comp = 0.0
        self._vol = 0.0
        self._vol_comp = 0.0
        self._bars: deque[tuple[float, float]] = deque()
        self._nans = 0
        self._nonzero = 0

    def update(
        self,
        timestamp: dt.datetime | np.datetime64,
        high: float,
        low: float,
        close: float,
        volume: float,
    ) -> float:
        v = float(volume)
        p = _typical_price(float(high), float(low), float(close)) * v
        if self.window is None:
            return self._update_session(utc_day(timestamp), p, v)
        return self._update_rolling(p, v, self.window)

    def _update_session(self, day: dt.date, p: float, v: float) -> float:
        if day != self._day:
            self._day = day
            self._pv = 0.0
            self._vol = 0.0
        self._pv += p
        self._vol += v
        return self._pv / self._vol if self._vol != 0.0 else NAN

    def _add(self, p: float, v: float, sign: int) -> None:
        if p == p:
            self._pv, self._pv_comp = _neumaier_add(self._pv, self._pv_comp, sign * p)
            self._vol, self._vol_comp = _neumaier_add(self._vol, self._vol_comp, sign * v)
            if v != 0.0:
                self._nonzero += sign
        else:
            self._nans += sign

    def _update_rolling(self, p: float, v: float, window: int) -> float:
        self._add(p, v, 1)
        self._bars.append((p, v))
        if len(self._bars) > window:
            self._add(*self._bars.popleft(), -1)
        vol = self._vol + self._vol_comp
        if len(self._bars) == window and self._nans == 0 and self._nonzero > 0 and vol != 0.0:
            return (self._pv + self._pv_comp) / vol
        return NAN


class StreamingVolumeProfile:
    """Bar-by-bar :func:`~tradesweep.indicators.nb.volume_profile_nb`; ``update(high, low,
    close, volume)`` returns ``(poc, va_low, va_high)``. O(lookback + bins) per update."""

    def __init__(self, lookback: int, bins: int = 24, value_area_pct: float = 0.7) -> None:
        self.lookback = check_window("lookback", lookback)
        self.bins = check_window("bins", bins)
        self.value_area_pct = check_real(
            "value_area_pct", value_area_pct, low=0.0, high=1.0, low_open=True
        )
        self._columns = tuple(WindowBuffer(self.lookback) for _ in range(4))

    def reset(self) -> None:
        for column in self._columns:
            column.reset()

    def update(self, high: float, low: float, close: float, volume: float) -> Triple:
        for column, value in zip(self._columns, (high, low, close, volume), strict=True):
            column.push(float(value))
        first = self._columns[0]
        if first.count < self.lookback:
            return NAN, NAN, NAN
        h, lo, c, v = (column.buf for column in self._columns)
        start = first.start
        poc, va_low, va_high = nb.profile_window(
            h, lo, c, v, start, start + self.lookback, self.bins, self.value_area_pct
        )
        return float(poc), float(va_low), float(va_high)
