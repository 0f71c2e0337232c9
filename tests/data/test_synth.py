"""Synthetic GBM bars: deterministic, consistent, labelled and fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesweep.data import infer_interval, synthetic_bars, validate_bars
from tradesweep.errors import DataError


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    first = synthetic_bars(1000, seed=7)
    pd.testing.assert_frame_equal(first, synthetic_bars(1000, seed=7))
    assert not np.array_equal(
        first["close"].to_numpy(), synthetic_bars(1000, seed=8)["close"].to_numpy()
    )


def test_labels_and_timestamps() -> None:
    bars = synthetic_bars(48, interval="1h", start="2021-03-01 09:00", ticker="FAKE")
    assert bars.attrs == {"ticker": "FAKE", "source": "synthetic:seed=0", "synthetic": True}
    assert bars.index[0] == pd.Timestamp("2021-03-01 09:00", tz="UTC")
    assert infer_interval(bars.index) == pd.Timedelta("1h")
    assert synthetic_bars(3, interval="15m").index[1] == pd.Timestamp("2000-01-01 00:15", tz="UTC")


@settings(max_examples=40, deadline=None)
@given(
    n_bars=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    volatility=st.floats(0.0, 3.0),
    drift=st.floats(-1.0, 1.0),
    interval=st.sampled_from(["1m", "1h", "4h", "1D", "1W"]),
)
def test_ohlc_invariants(
    n_bars: int, seed: int, volatility: float, drift: float, interval: str
) -> None:
    bars = synthetic_bars(n_bars, seed=seed, volatility=volatility, drift=drift, interval=interval)
    validate_bars(bars)
    assert len(bars) == n_bars
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["volume"] > 0).all()


def test_without_volatility_the_path_is_the_drift() -> None:
    bars = synthetic_bars(366, drift=0.1, volatility=0.0, s0=50.0)
    np.testing.assert_allclose(bars["open"].iloc[1:], bars["close"].iloc[:-1].to_numpy())
    assert bars["close"].iloc[-1] == pytest.approx(50.0 * np.exp(0.1 * 366 / 365.25))
    assert (bars["high"] == bars[["open", "close"]].max(axis=1)).all()


def test_volatility_and_drift_are_annual() -> None:
    bars = synthetic_bars(200_000, seed=1, interval="1h", volatility=0.3, drift=0.0)
    returns = np.diff(np.log(bars["close"].to_numpy()))
    per_year = pd.Timedelta(days=365.25) / pd.Timedelta("1h")
    assert returns.std() * np.sqrt(per_year) == pytest.approx(0.3, rel=0.02)


def test_a_million_bars_is_vectorised() -> None:
    bars = synthetic_bars(1_000_000, seed=3, interval="1m")
    assert len(bars) == 1_000_000
    assert bars.index.is_monotonic_increasing


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"n_bars": 0}, "at least 1"),
        ({"n_bars": 10, "interval": "1M"}, "fixed interval"),
        ({"n_bars": 10, "interval": "fortnight"}, "unknown bar rule"),
        ({"n_bars": 10, "s0": -1.0}, "s0 > 0"),
        ({"n_bars": 10, "start": "not a date"}, "is not a date"),
        ({"n_bars": 1_000_000, "interval": "1D"}, "run past"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(DataError, match=words):
        synthetic_bars(**kwargs)  # type: ignore[arg-type]
