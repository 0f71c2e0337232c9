"""assert_no_lookahead: every strategy passes it, and it catches leaky ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.strategies import (
    Candle,
    LookaheadError,
    Param,
    SignalFlag,
    Signals,
    Strategy,
    assert_no_lookahead,
    get_strategy,
)
from tradesweep.strategies.crossing import crosses_above
from tradesweep.strategies.lookahead import default_cut_points, perturb_after


class _Leaky(Strategy):
    """Buys when tomorrow's close is higher: the classic leak."""

    name = "leaky"
    description = "Uses close.shift(-1)."
    schema = (Param("unused", int, 1, 0, 10, "Nothing."),)

    def warmup_period(self) -> int:
        return 0

    def signals(self, bars: pd.DataFrame) -> Signals:
        close = bars["close"]
        up = (close.shift(-1) > close).to_numpy()
        return Signals(up, ~up, np.zeros_like(up), np.zeros_like(up))

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        return None

    def reset(self) -> None:
        pass


class _CentredAverage(_Leaky):
    """A centred rolling mean: a subtler leak (the window reaches 2 bars ahead)."""

    name = "centred"

    def signals(self, bars: pd.DataFrame) -> Signals:
        close = bars["close"].to_numpy()
        centred = bars["close"].rolling(5, center=True).mean().to_numpy()
        up = crosses_above(close, centred)
        return Signals(up, np.zeros_like(up), np.zeros_like(up), np.zeros_like(up))


class _FullSampleMean(_Leaky):
    """Compares the close to the mean of the whole frame."""

    name = "full_sample"

    def signals(self, bars: pd.DataFrame) -> Signals:
        close = bars["close"].to_numpy()
        up = close > close.mean()
        return Signals(up, ~up, np.zeros_like(up), np.zeros_like(up))


def test_builtins_do_not_look_ahead(builtin_case, samples):
    ticker, name, params = builtin_case
    assert_no_lookahead(get_strategy(name, params), samples[ticker], trials=1)


def test_declarative_examples_do_not_look_ahead(declarative_file, samples):
    for bars in samples.values():
        assert_no_lookahead(get_strategy(declarative_file), bars)


def test_plugin_example_does_not_look_ahead(samples, plugin_example):
    for bars in samples.values():
        assert_no_lookahead(get_strategy(plugin_example), bars)


@pytest.mark.parametrize("leaky", [_Leaky, _CentredAverage, _FullSampleMean])
def test_catches_leaky_strategies(leaky, googl):
    with pytest.raises(LookaheadError, match="looks ahead"):
        assert_no_lookahead(leaky(), googl)


def test_truncation_alone_catches_shift_minus_one(googl):
    close = googl["close"].to_numpy()
    rising = 500 + int(np.flatnonzero(close[501:] > close[500:-1])[0])  # leak shows here
    with pytest.raises(LookaheadError, match="removed"):
        assert_no_lookahead(_Leaky(), googl, cut_points=[rising], trials=0)


def test_error_names_the_bar_and_the_flags(googl):
    with pytest.raises(LookaheadError) as info:
        assert_no_lookahead(_Leaky(), googl, cut_points=[1000])
    message = str(info.value)
    assert "bar 1000" in message and str(googl.index[1000]) in message
    assert "LONG_ENTRY" in message or "LONG_EXIT" in message


def test_perturbation_keeps_the_past_and_ohlc_order(googl):
    altered = perturb_after(googl, 1000, np.random.default_rng(1))
    pd.testing.assert_frame_equal(altered.iloc[:1001], googl.iloc[:1001])
    later = altered.iloc[1001:]
    assert not np.allclose(later["close"], googl["close"].iloc[1001:])
    assert (later["high"] >= later[["open", "close"]].max(axis=1)).all()
    assert (later["low"] <= later[["open", "close"]].min(axis=1)).all()


def test_cut_points(googl):
    strategy = get_strategy("sma_crossover")
    points = default_cut_points(strategy, len(googl))
    assert points[0] == strategy.warmup_period() and points[-1] == len(googl) - 2
    with pytest.raises(ValueError, match="outside"):
        assert_no_lookahead(strategy, googl, cut_points=[len(googl)])
    assert_no_lookahead(strategy, googl, cut_points=[-2, 40], trials=1)
