"""Wrappers: pandas in gives pandas out on the same index, numpy in gives numpy; bad
parameters raise ParameterError saying how to fix them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import tradesweep.indicators as ti
from tradesweep.errors import DataError, ParameterError
from tradesweep.indicators import nb


def test_series_in_series_out(googl: pd.DataFrame) -> None:
    close = googl["close"]
    for fn, arg in ((ti.sma, 20), (ti.ema, 20), (ti.rsi, 14)):
        out = fn(close, arg)
        assert isinstance(out, pd.Series)
        assert out.index.equals(close.index) and out.name == "close"
    np.testing.assert_array_equal(ti.sma(close, 20).to_numpy(), nb.sma_nb(close.to_numpy(), 20))


def test_array_in_array_out() -> None:
    x = np.arange(30.0)
    assert isinstance(ti.sma(x, 3), np.ndarray)
    for got, want in zip(ti.macd(x, 3, 5, 2), nb.macd_nb(x, 3, 5, 2), strict=True):
        np.testing.assert_array_equal(got, want)
    assert len(ti.bollinger(list(x), 5)) == 3


def test_frames_for_multi_output(eurusd: pd.DataFrame) -> None:
    macd = ti.macd(eurusd["close"])
    assert list(macd.columns) == ["line", "signal", "hist"] and macd.index.equals(eurusd.index)
    bands = ti.bollinger(eurusd["close"], 20, 2.0)
    assert list(bands.columns) == ["middle", "upper", "lower"]
    profile = ti.volume_profile(eurusd, 48, 24, 0.7)
    assert list(profile.columns) == ["poc", "va_low", "va_high"]
    valid = profile.dropna()
    assert len(valid) == len(eurusd) - 47
    assert (valid["va_low"] <= valid["poc"]).all() and (valid["poc"] <= valid["va_high"]).all()
    assert ti.atr(eurusd, 14).index.equals(eurusd.index)


def test_vwap_sessions_follow_utc_days(eurusd: pd.DataFrame) -> None:
    out = ti.vwap(eurusd)
    day = eurusd.index.normalize()
    first = ~day.duplicated()
    tp = (eurusd["high"] + eurusd["low"] + eurusd["close"]) / 3.0
    np.testing.assert_allclose(out[first].to_numpy(), tp[first].to_numpy(), rtol=1e-15)
    rolling = ti.vwap(eurusd, window=24)
    columns = (eurusd[c].to_numpy() for c in ("high", "low", "close", "volume"))
    np.testing.assert_array_equal(rolling.to_numpy(), nb.vwap_rolling_nb(*columns, 24))


def test_bars_as_mapping_of_arrays(googl: pd.DataFrame) -> None:
    bars = {c: googl[c].to_numpy() for c in ("high", "low", "close", "volume")}
    np.testing.assert_array_equal(ti.atr(bars, 10), ti.atr(googl, 10).to_numpy())
    sid = np.arange(len(googl)) // 5
    np.testing.assert_array_equal(
        ti.vwap(bars, session_id=sid), ti.vwap(googl, session_id=sid).to_numpy()
    )
    with pytest.raises(ParameterError, match="timestamps"):
        ti.vwap(bars)
    with pytest.raises(ParameterError, match="one session id per bar"):
        ti.vwap(bars, session_id=sid[:-1])


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda x: ti.sma(x, 0), "window"),
        (lambda x: ti.sma(x, 2.5), "window"),
        (lambda x: ti.sma(x, True), "window"),
        (lambda x: ti.ema(x, -1), "span"),
        (lambda x: ti.rsi(x, "14"), "period"),
        (lambda x: ti.macd(x, 26, 12, 9), "fast"),
        (lambda x: ti.macd(x, 12, 26, 0), "signal"),
        (lambda x: ti.bollinger(x, 20, -1.0), "num_std"),
        (lambda x: ti.bollinger(x, 20, float("nan")), "num_std"),
    ],
)
def test_series_parameters_are_validated(
    call: Callable[[np.ndarray], object], parameter: str
) -> None:
    with pytest.raises(ParameterError) as info:
        call(np.arange(10.0))
    assert info.value.details["parameter"] == parameter
    assert info.value.fix


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"lookback": 0}, "lookback"),
        ({"lookback": 10, "bins": 0}, "bins"),
        ({"lookback": 10, "value_area_pct": 0.0}, "value_area_pct"),
        ({"lookback": 10, "value_area_pct": 1.5}, "value_area_pct"),
    ],
)
def test_volume_profile_parameters_are_validated(
    googl: pd.DataFrame, kwargs: dict[str, float], parameter: str
) -> None:
    with pytest.raises(ParameterError) as info:
        ti.volume_profile(googl, **kwargs)
    assert info.value.details["parameter"] == parameter
    assert "fix" in info.value.to_dict()["details"]


def test_bar_indicators_name_missing_columns(googl: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="volume"):
        ti.vwap(googl.drop(columns="volume"))
    with pytest.raises(ParameterError):
        ti.atr(googl, 0)
    with pytest.raises(DataError, match="one-dimensional"):
        ti.sma(np.ones((3, 2)), 2)


def test_streaming_parameters_are_validated() -> None:
    with pytest.raises(ParameterError):
        ti.StreamingSMA(0)
    with pytest.raises(ParameterError):
        ti.StreamingVolumeProfile(10, 5, 0.0)
    with pytest.raises(ParameterError):
        ti.StreamingVWAP(window=0)


def test_public_names() -> None:
    assert set(ti.__all__) >= {"sma", "ema", "macd", "rsi", "bollinger", "atr", "vwap"}
    assert all(hasattr(ti, name) for name in ti.__all__)
