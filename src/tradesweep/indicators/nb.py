"""Numba indicator kernels.

Every kernel takes float64 1-D arrays and returns float64 arrays of the same length, NaN
during warm-up. Each docstring names its pandas equivalent (or, where pandas has none, the
exact definition); ``tests/indicators`` holds the oracle for each.

The streaming objects in :mod:`tradesweep.indicators.streaming` repeat the floating-point
operations of these kernels in the same order, so their outputs are bit-identical. Any change
to the arithmetic here must be mirrored there (the tests compare with ``==``).

Rolling sums use a Neumaier-compensated running sum (:func:`neumaier_add`), so long series
with a large offset keep ~1e-15 relative accuracy without re-summing each window.
"""

from __future__ import annotations

import numpy as np
from numba import njit

VALUE_AREA_SLACK = 1e-12
"""Relative slack on the value-area target, so that summation rounding cannot make a 100%
value area spill over empty edge bins."""

# --- helpers -------------------------------------------------------------------------------


@njit(cache=True)
def neumaier_add(total: float, comp: float, x: float) -> tuple[float, float]:
    """Add ``x`` to the compensated sum ``(total, comp)``; the sum's value is ``total + comp``."""
    t = total + x
    if abs(total) >= abs(x):
        comp += (total - t) + x
    else:
        comp += (x - t) + total
    return t, comp


@njit(cache=True)
def ewm_alpha(span: float) -> float:
    """pandas' ``alpha`` for ``ewm(span=span)``: ``1 / (1 + com)`` with ``com = (span - 1) / 2``.

    Written as pandas writes it; for integer spans it is the same double as ``2 / (span + 1)``.
    """
    return 1.0 / (1.0 + (span - 1.0) / 2.0)


@njit(cache=True)
def ewm_step(weighted: float, old_wt: float, x: float, alpha: float) -> tuple[float, float]:
    """One step of pandas' ``ewm(adjust=False, ignore_na=False).mean()`` after the seed.

    ``(weighted, old_wt)`` is the state; a NaN ``x`` decays ``old_wt`` and keeps ``weighted``.
    Written as pandas writes it (``window/aggregations.pyx::ewm``), so results match bit for bit.
    """
    if weighted != weighted:
        if x == x:
            return x, 1.0
        return weighted, old_wt
    old_wt *= 1.0 - alpha
    if x == x:
        if weighted != x:
            weighted = (old_wt * weighted + alpha * x) / (old_wt + alpha)
        old_wt = 1.0
    return weighted, old_wt


@njit(cache=True)
def typical_price(high: float, low: float, close: float) -> float:
    """``(high + low + close) / 3``."""
    return (high + low + close) / 3.0


@njit(cache=True)
def true_range(high: float, low: float, prev_close: float) -> float:
    """``max(high - low, |high - prev_close|, |low - prev_close|)``; NaN if any input is NaN."""
    tr = high - low
    up = abs(high - prev_close)
    down = abs(low - prev_close)
    if up != up or down != down:
        return np.nan
    if up > tr:
        tr = up
    if down > tr:
        tr = down
    return tr


@njit(cache=True)
def wilder_step(avg: float, x: float, period: int) -> float:
    """Wilder's smoothing: ``(avg * (period - 1) + x) / period``."""
    return (avg * (period - 1) + x) / period


@njit(cache=True)
def first_valid(x: np.ndarray) -> int:
    """Index of the first non-NaN value of ``x``, or ``len(x)`` if there is none."""
    for t in range(x.shape[0]):
        if x[t] == x[t]:
            return t
    return x.shape[0]


@njit(cache=True)
def first_valid_bar(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> int:
    """Index of the first bar whose high, low and close are all non-NaN, or ``len(close)``."""
    for t in range(close.shape[0]):
        if high[t] == high[t] and low[t] == low[t] and close[t] == close[t]:
            return t
    return close.shape[0]


@njit(cache=True)
def talib_k(period: int) -> float:
    """TA-Lib's EMA factor ``2 / (period + 1)`` (its ``PER_TO_K``)."""
    return 2.0 / (period + 1)


@njit(cache=True)
def talib_ema_step(prev: float, x: float, k: float) -> float:
    """One TA-Lib EMA step, ``(x - prev) * k + prev``, in TA-Lib's order of operations."""
    return (x - prev) * k + prev


@njit(cache=True)
def mean_of(x: np.ndarray, start: int, stop: int) -> float:
    """``sum(x[start:stop]) / (stop - start)``, summed in order (TA-Lib's SMA seed)."""
    total = 0.0
    for i in range(start, stop):
        total += x[i]
    return total / (stop - start)


# --- moving averages ----------------------------------------------------------------------


@njit(cache=True)
def sma_nb(x: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average. pandas: ``pd.Series(x).rolling(window).mean()``.

    NaN for the first ``window - 1`` bars and wherever the window holds a NaN
    (``min_periods=window``).
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    total = 0.0
    comp = 0.0
    nans = 0
    for t in range(n):
        v = x[t]
        if v == v:
            total, comp = neumaier_add(total, comp, v)
        else:
            nans += 1
        if t >= window:
            old = x[t - window]
            if old == old:
                total, comp = neumaier_add(total, comp, -old)
            else:
                nans -= 1
        if t >= window - 1 and nans == 0:
            out[t] = (total + comp) / window
    return out


@njit(cache=True)
def ema_nb(x: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average.
    pandas: ``pd.Series(x).ewm(span=span, adjust=False).mean()``.

    Seeded with the first non-NaN value (NaN before it); no other warm-up. A NaN later repeats
    the previous value and decays the past's weight (pandas' ``ignore_na=False``: in
    ``[x0, NaN, x2]`` the weights are ``(1 - alpha)**2`` and ``alpha``). Bit-identical to pandas,
    except that pandas 3.x weighs the value after such a gap by ``1 - old_weight`` instead of
    ``alpha`` when ``com == 1`` (``span=3``); this kernel keeps the documented weights for
    every span.
    """
    n = x.shape[0]
    out = np.empty(n)
    alpha = ewm_alpha(span)
    weighted = np.nan
    old_wt = 1.0
    for t in range(n):
        weighted, old_wt = ewm_step(weighted, old_wt, x[t], alpha)
        out[t] = weighted
    return out


@njit(cache=True)
def macd_nb(
    close: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD ``(line, signal_line, hist)``.

    pandas: ``line = ema(close, fast) - ema(close, slow)``,
    ``signal_line = line.ewm(span=signal, adjust=False).mean()``, ``hist = line - signal_line``,
    all computed from bar 0 on the full series (the signal EMA sees the unconverged early line
    values). Then masked: ``line`` is NaN for the first ``max(fast, slow) - 1`` bars,
    ``signal_line`` and ``hist`` for the first ``max(fast, slow) + signal - 2`` bars.
    """
    n = close.shape[0]
    line = np.empty(n)
    sig = np.empty(n)
    hist = np.empty(n)
    a_fast = ewm_alpha(fast)
    a_slow = ewm_alpha(slow)
    a_sig = ewm_alpha(signal)
    w_fast, o_fast = np.nan, 1.0
    w_slow, o_slow = np.nan, 1.0
    w_sig, o_sig = np.nan, 1.0
    line_warm = max(fast, slow) - 1
    sig_warm = line_warm + signal - 1
    for t in range(n):
        w_fast, o_fast = ewm_step(w_fast, o_fast, close[t], a_fast)
        w_slow, o_slow = ewm_step(w_slow, o_slow, close[t], a_slow)
        v = w_fast - w_slow
        w_sig, o_sig = ewm_step(w_sig, o_sig, v, a_sig)
        line[t] = v if t >= line_warm else np.nan
        if t >= sig_warm:
            sig[t] = w_sig
            hist[t] = v - w_sig
        else:
            sig[t] = np.nan
            hist[t] = np.nan
    return line, sig, hist


# --- oscillators and bands ----------------------------------------------------------------


@njit(cache=True)
def rsi_step(avg_gain: float, avg_loss: float) -> float:
    """``100 - 100 / (1 + avg_gain / avg_loss)``; 100 if only ``avg_loss`` is 0, 50 if both are."""
    if avg_loss == 0.0:
        if avg_gain == 0.0:
            return 50.0
        return 100.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


@njit(cache=True)
def rsi_nb(close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI (no pandas one-liner; oracle: the textbook loop in the tests).

    Changes ``d = close[t] - close[t-1]``; gain ``max(d, 0)``, loss ``max(-d, 0)``. The averages
    are seeded with the simple mean of the first ``period`` gains/losses (summed in order, then
    divided by ``period``) and then smoothed ``avg = (avg * (period - 1) + g) / period``.
    ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``, 100 when ``avg_loss == 0`` and 50 when
    both are 0. Leading NaNs are skipped: with ``f`` the first non-NaN bar, the first value is
    at ``f + period``. A NaN after ``f`` makes every later value NaN.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    prev = np.nan
    seen = 0  # changes seen since the first non-NaN close
    sum_gain = 0.0
    sum_loss = 0.0
    avg_gain = 0.0
    avg_loss = 0.0
    for t in range(n):
        c = close[t]
        if seen == 0 and prev != prev:
            if c == c:
                prev = c
            continue
        d = c - prev
        prev = c
        if d != d:
            gain = np.nan
            loss = np.nan
        elif d > 0.0:
            gain = d
            loss = 0.0
        else:
            gain = 0.0
            loss = -d
        seen += 1
        if seen < period:
            sum_gain += gain
            sum_loss += loss
            continue
        if seen == period:
            avg_gain = (sum_gain + gain) / period
            avg_loss = (sum_loss + loss) / period
        else:
            avg_gain = wilder_step(avg_gain, gain, period)
            avg_loss = wilder_step(avg_loss, loss, period)
        if avg_gain != avg_gain or avg_loss != avg_loss:
            out[t] = np.nan
        else:
            out[t] = rsi_step(avg_gain, avg_loss)
    return out


@njit(cache=True)
def window_std_ddof(x: np.ndarray, start: int, stop: int, mean: float, ddof: int) -> float:
    """Std of ``x[start:stop]`` with ``ddof`` (0 or 1) by the corrected two-pass formula around
    ``mean``: ``sqrt((ssd - dev**2 / m) / (m - ddof))``. 0 when all values are equal (as pandas
    makes it), NaN when ``m <= ddof``."""
    m = stop - start
    if m <= ddof:
        return np.nan
    first = x[start]
    same = True
    ssd = 0.0
    dev = 0.0
    for i in range(start, stop):
        d = x[i] - mean
        ssd += d * d
        dev += d
        if x[i] != first:
            same = False
    if same:
        return 0.0
    var = (ssd - dev * dev / m) / (m - ddof)
    if var < 0.0:
        var = 0.0
    return np.sqrt(var)


@njit(cache=True)
def bands_nb(
    close: np.ndarray, window: int, num_std: float, ddof: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(middle, upper, lower)``: ``sma_nb`` +- ``num_std`` x the window's std with ``ddof``,
    recomputed over each window (corrected two-pass), O(window) per bar, for accuracy at large
    offsets. NaN where ``sma_nb`` is NaN."""
    n = close.shape[0]
    middle = sma_nb(close, window)
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    for t in range(window - 1, n):
        m = middle[t]
        if m != m:
            continue
        sd = window_std_ddof(close, t - window + 1, t + 1, m, ddof)
        upper[t] = m + num_std * sd
        lower[t] = m - num_std * sd
    return middle, upper, lower


@njit(cache=True)
def bollinger_nb(
    close: np.ndarray, window: int, num_std: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands ``(middle, upper, lower)``.

    pandas: ``m = s.rolling(window).mean()``, ``sd = s.rolling(window).std()`` (ddof=1),
    ``(m, m + num_std * sd, m - num_std * sd)``. NaN where ``sma_nb`` is NaN; ``upper`` and
    ``lower`` are NaN everywhere when ``window == 1`` (std of one value). See :func:`bands_nb`.
    """
    return bands_nb(close, window, num_std, 1)


@njit(cache=True)
def atr_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's average true range (oracle: the textbook loop in the tests).

    True range ``TR = max(h - l, |h - prev_close|, |l - prev_close|)``; the first bar's TR is
    ``h - l``. ATR is seeded with the mean of the first ``period`` TRs (summed in order, then
    divided by ``period``) and smoothed ``atr = (atr * (period - 1) + tr) / period``. The first
    ``period - 1`` values are NaN. Leading bars with any NaN in high/low/close are skipped (the
    count starts at the first complete bar); a NaN after that makes every later value NaN.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    prev = np.nan
    seen = 0
    total = 0.0
    atr = 0.0
    for t in range(n):
        h = high[t]
        lo = low[t]
        c = close[t]
        if seen == 0:
            if h != h or lo != lo or c != c:
                continue
            tr = h - lo
        else:
            tr = true_range(h, lo, prev)
        prev = c
        seen += 1
        if seen < period:
            total += tr
            continue
        atr = (total + tr) / period if seen == period else wilder_step(atr, tr, period)
        out[t] = atr
    return out


# --- the TA-Lib convention ---------------------------------------------------------------
# TA-Lib (C library 0.6+, Python ``talib``) seeds EMA, MACD and ATR with a simple mean and
# computes Bollinger's std with ddof=0. These kernels follow its definitions (and its order of
# operations) so that ``indicator_convention="talib"`` equals ``talib.*`` to 1e-10 from
# TA-Lib's first value, with TA-Lib's NaN positions. Like TA-Lib's Python wrapper they start
# at the first non-NaN input; a NaN after it makes every later value NaN (TA-Lib's
# arithmetic), except for the bands, which are NaN only where a window holds a NaN.


@njit(cache=True)
def ema_talib_nb(x: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib's EMA (oracle: ``talib.EMA(x, period)``).

    With ``f`` the first non-NaN bar: NaN before ``f + period - 1``; there the mean of
    ``x[f : f + period]``; after it ``ema = (x - ema) * k + ema`` with ``k = 2 / (period + 1)``
    (the same ``alpha`` as :func:`ema_nb`; only the seed and the warm-up differ).
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    first = first_valid(x) + period - 1
    if first >= n:
        return out
    k = talib_k(period)
    prev = mean_of(x, first - period + 1, first + 1)
    out[first] = prev
    for t in range(first + 1, n):
        prev = talib_ema_step(prev, x[t], k)
        out[t] = prev
    return out


@njit(cache=True)
def macd_talib_nb(
    close: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TA-Lib's MACD ``(line, signal_line, hist)`` (oracle: ``talib.MACD``). As TA-Lib does,
    ``fast`` and ``slow`` are swapped when ``slow < fast``.

    With ``f`` the first non-NaN bar and ``a = f + slow - 1``: both EMAs start at ``a``, the
    slow one seeded with the mean of ``close[f : a + 1]``, the fast one with the mean of its
    last ``fast`` values ``close[a - fast + 1 : a + 1]`` (not :func:`ema_talib_nb` of ``fast``,
    which would start earlier); ``line = fast - slow`` from ``a``. The signal is the TA-Lib
    EMA of the line (seeded with the mean of its first ``signal`` values), first at
    ``b = a + signal - 1``; ``hist = line - signal_line``. All three are NaN before ``b``.
    """
    n = close.shape[0]
    line = np.full(n, np.nan)
    sig = np.full(n, np.nan)
    hist = np.full(n, np.nan)
    if slow < fast:
        fast, slow = slow, fast
    a = first_valid(close) + slow - 1
    b = a + signal - 1
    if b >= n:
        return line, sig, hist
    k_fast = talib_k(fast)
    k_slow = talib_k(slow)
    k_sig = talib_k(signal)
    ema_fast = mean_of(close, a - fast + 1, a + 1)
    ema_slow = mean_of(close, a - slow + 1, a + 1)
    raw = np.empty(n)
    raw[a] = ema_fast - ema_slow
    for t in range(a + 1, n):
        ema_fast = talib_ema_step(ema_fast, close[t], k_fast)
        ema_slow = talib_ema_step(ema_slow, close[t], k_slow)
        raw[t] = ema_fast - ema_slow
    prev = mean_of(raw, a, b + 1)
    for t in range(b, n):
        if t > b:
            prev = talib_ema_step(prev, raw[t], k_sig)
        line[t] = raw[t]
        sig[t] = prev
        hist[t] = raw[t] - prev
    return line, sig, hist


@njit(cache=True)
def bollinger_talib_nb(
    close: np.ndarray, window: int, num_std: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TA-Lib's Bollinger bands ``(middle, upper, lower)`` (oracle: ``talib.BBANDS(close,
    window, num_std, num_std)``, SMA middle band).

    As :func:`bollinger_nb` with the population std (ddof=0) instead of the sample std: the
    bands are ``sqrt(window / (window - 1))`` times narrower. TA-Lib computes the variance as
    ``mean(x**2) - mean**2``; this kernel keeps the two-pass formula, which agrees with it to
    ~1e-13 relative on prices and stays accurate where that one cancels (a std below ~1e-6 of
    the price level). ``window == 1`` gives bands equal to the middle band.
    """
    return bands_nb(close, window, num_std, 0)


@njit(cache=True)
def atr_talib_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib's ATR (oracle: ``talib.ATR(high, low, close, period)``).

    With ``g`` the first bar whose high, low and close are all non-NaN: the true range starts
    at ``g + 1`` (TA-Lib has no TR for the first bar, where :func:`atr_nb` takes ``h - l``);
    the ATR is seeded at ``g + period`` with the mean of ``TR[g + 1 : g + period + 1]`` and
    smoothed ``atr = (atr * (period - 1) + tr) / period`` after it. NaN before ``g + period``;
    ``period == 1`` gives the true range itself.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    g = first_valid_bar(high, low, close)
    first = g + period
    if first >= n:
        return out
    total = 0.0
    for t in range(g + 1, first + 1):
        total += true_range(high[t], low[t], close[t - 1])
    atr = total / period
    out[first] = atr
    for t in range(first + 1, n):
        atr = wilder_step(atr, true_range(high[t], low[t], close[t - 1]), period)
        out[t] = atr
    return out


# --- volume-weighted ----------------------------------------------------------------------


@njit(cache=True)
def vwap_session_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    session_id: np.ndarray,
) -> np.ndarray:
    """Session VWAP: ``cumsum(typical * volume) / cumsum(volume)``, restarting whenever
    ``session_id`` (int64) changes. ``typical = (high + low + close) / 3``.

    pandas: ``(tp * v).groupby(sid).cumsum() / v.groupby(sid).cumsum()`` for contiguous
    sessions. NaN while the session's volume sum is 0; a NaN input makes the rest of its
    session NaN.
    """
    n = close.shape[0]
    out = np.empty(n)
    pv = 0.0
    vol = 0.0
    for t in range(n):
        if t == 0 or session_id[t] != session_id[t - 1]:
            pv = 0.0
            vol = 0.0
        v = volume[t]
        pv += typical_price(high[t], low[t], close[t]) * v
        vol += v
        out[t] = pv / vol if vol != 0.0 else np.nan
    return out


@njit(cache=True)
def vwap_rolling_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    window: int,
) -> np.ndarray:
    """Rolling VWAP over the last ``window`` bars.

    pandas: ``(tp * v).rolling(window).sum() / v.rolling(window).sum()``. NaN for the first
    ``window - 1`` bars, while the window holds a NaN, and while every volume in it is 0 (or the
    running volume sum rounds to 0: its error is ~eps**2 times the largest volume seen).
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    pv = np.empty(n)
    for t in range(n):
        pv[t] = typical_price(high[t], low[t], close[t]) * volume[t]
    pv_tot, pv_comp = 0.0, 0.0
    v_tot, v_comp = 0.0, 0.0
    nans = 0
    nonzero = 0
    for t in range(n):
        p = pv[t]
        v = volume[t]
        if p == p:
            pv_tot, pv_comp = neumaier_add(pv_tot, pv_comp, p)
            v_tot, v_comp = neumaier_add(v_tot, v_comp, v)
            if v != 0.0:
                nonzero += 1
        else:
            nans += 1
        if t >= window:
            p = pv[t - window]
            v = volume[t - window]
            if p == p:
                pv_tot, pv_comp = neumaier_add(pv_tot, pv_comp, -p)
                v_tot, v_comp = neumaier_add(v_tot, v_comp, -v)
                if v != 0.0:
                    nonzero -= 1
            else:
                nans -= 1
        vol = v_tot + v_comp
        if t >= window - 1 and nans == 0 and nonzero > 0 and vol != 0.0:
            out[t] = (pv_tot + pv_comp) / vol
    return out


@njit(cache=True)
def profile_bin(price: float, lo: float, width: float, bins: int) -> int:
    """``int((price - lo) / width)`` clamped to ``[0, bins - 1]`` (clamped before converting)."""
    f = (price - lo) / width
    if f >= bins:
        return bins - 1
    if f < 0.0:
        return 0
    return int(f)


@njit(cache=True)
def profile_window(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    start: int,
    stop: int,
    bins: int,
    value_area_pct: float,
) -> tuple[float, float, float]:
    """``(poc, va_low, va_high)`` of the bars ``start..stop-1``; see :func:`volume_profile_nb`."""
    lo = np.inf
    hi = -np.inf
    for i in range(start, stop):
        if high[i] != high[i] or low[i] != low[i] or close[i] != close[i]:
            return np.nan, np.nan, np.nan
        if volume[i] != volume[i]:
            return np.nan, np.nan, np.nan
        if low[i] < lo:
            lo = low[i]
        if high[i] > hi:
            hi = high[i]
    width = (hi - lo) / bins
    if not width > 0.0:
        return lo, lo, lo
    hist = np.zeros(bins)
    for i in range(start, stop):
        hist[profile_bin(typical_price(high[i], low[i], close[i]), lo, width, bins)] += volume[i]
    total = 0.0
    poc = 0
    for k in range(bins):
        total += hist[k]
        if hist[k] > hist[poc]:
            poc = k
    if total == 0.0:
        return np.nan, np.nan, np.nan
    target = value_area_pct * total * (1.0 - VALUE_AREA_SLACK)
    first = poc
    last = poc
    included = hist[poc]
    while included < target:
        can_down = first > 0
        can_up = last < bins - 1
        if can_up and (not can_down or hist[last + 1] >= hist[first - 1]):
            last += 1
            included += hist[last]
        elif can_down:
            first -= 1
            included += hist[first]
        else:
            break
    return lo + (poc + 0.5) * width, lo + first * width, lo + (last + 1) * width


@njit(cache=True)
def volume_profile_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    lookback: int,
    bins: int,
    value_area_pct: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolling volume profile ``(poc, va_low, va_high)`` (no pandas equivalent; oracle: the
    plain-Python loop in the tests).

    For each bar ``t >= lookback - 1``, over bars ``t - lookback + 1 .. t``: ``lo = min(low)``,
    ``hi = max(high)``, ``width = (hi - lo) / bins``; each bar's whole volume goes to bin
    ``k = int((typical - lo) / width)`` clamped to ``[0, bins - 1]``, ``typical = (h + l + c) / 3``.
    POC is the centre ``lo + (k + 0.5) * width`` of the bin with the most volume (lowest bin on
    ties). The value area starts at the POC bin and repeatedly adds the neighbouring bin with
    more volume (the upper one on ties, the only one at an edge) until it holds at least
    ``value_area_pct`` of the window's volume (less a relative ``VALUE_AREA_SLACK`` of 1e-12);
    ``va_low = lo + first * width``, ``va_high = lo + (last + 1) * width``. If ``hi == lo`` (or
    ``width`` underflows to 0) all three equal ``lo``. NaN before
    ``lookback - 1``, when the window holds a NaN, or when its volume is 0 (and ``hi > lo``).
    O(lookback + bins) per bar.
    """
    n = close.shape[0]
    poc = np.full(n, np.nan)
    va_low = np.full(n, np.nan)
    va_high = np.full(n, np.nan)
    for t in range(lookback - 1, n):
        p, a, b = profile_window(
            high, low, close, volume, t - lookback + 1, t + 1, bins, value_area_pct
        )
        poc[t] = p
        va_low[t] = a
        va_high[t] = b
    return poc, va_low, va_high
