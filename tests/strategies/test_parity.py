"""The streaming form equals the vectorised form, bar for bar, exactly."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tradesweep.strategies import get_strategy
from tradesweep.strategies.base import Strategy


def assert_parity(strategy: Strategy, bars: pd.DataFrame) -> np.ndarray:
    vectorised = strategy.signals(bars).flags()
    streamed = strategy.stream(bars)
    differ = np.flatnonzero(vectorised != streamed)
    assert differ.size == 0, (
        f"{strategy.name} {strategy.params}: streaming differs from vectorised on "
        f"{differ.size} bars, first bar {differ[0]} ({bars.index[differ[0]]}): "
        f"vectorised {vectorised[differ[0]]}, streaming {streamed[differ[0]]}"
    )
    return vectorised


def test_builtin_streaming_equals_vectorised(builtin_case, samples):
    ticker, name, params = builtin_case
    flags = assert_parity(get_strategy(name, params), samples[ticker])
    assert np.count_nonzero(flags) > 0, "the case is vacuous: nothing fired"


def test_declarative_streaming_equals_vectorised(declarative_file, samples):
    strategy = get_strategy(declarative_file)
    for bars in samples.values():
        assert np.count_nonzero(assert_parity(strategy, bars)) > 0


def test_declarative_parity_with_other_parameters(samples, examples_dir):
    strategy = get_strategy(
        examples_dir / "strategies" / "golden_cross.yaml", {"fast": 10, "slow": 40}
    )
    for bars in samples.values():
        assert_parity(strategy, bars)


def test_plugin_example_parity(samples, plugin_example):
    strategy = get_strategy(plugin_example, {"lookback": 60, "threshold": 0.01})
    for bars in samples.values():
        assert_parity(strategy, bars)


def test_stream_restarts_from_reset(samples):
    strategy = get_strategy("rsi")
    bars = samples["GOOGL"]
    first = strategy.stream(bars)
    assert np.array_equal(strategy.stream(bars), first)
    assert np.array_equal(strategy.stream(bars.iloc[:100]), first[:100])


TALIB_CASES = {
    "ema_crossover": [{}, {"fast": 5, "slow": 13}],
    "macd": [{}, {"fast": 5, "slow": 35, "signal": 5}],
    "bollinger": [{}, {"period": 10, "num_std": 1.5, "min_bandwidth": 0.01}],
}


@pytest.mark.parametrize("name", list(TALIB_CASES))
def test_talib_convention_streaming_equals_vectorised(name, samples):
    for bars in samples.values():
        for params in TALIB_CASES[name]:
            strategy = get_strategy(name, params, indicator_convention="talib")
            assert np.count_nonzero(assert_parity(strategy, bars)) > 0


def test_talib_convention_changes_the_signals_of_ema_macd_bollinger(samples):
    bars = samples["GOOGL"]
    for name in ("ema_crossover", "macd", "bollinger"):
        pandas = get_strategy(name).signals(bars).flags()
        talib = get_strategy(name, indicator_convention="talib").signals(bars).flags()
        assert not np.array_equal(pandas, talib), name
    for name in ("sma_crossover", "rsi"):  # one definition: the convention changes nothing
        pandas = get_strategy(name).signals(bars).flags()
        talib = get_strategy(name, indicator_convention="talib").signals(bars).flags()
        assert np.array_equal(pandas, talib), name


def test_declarative_talib_convention_parity(declarative_file, samples):
    strategy = get_strategy(declarative_file, indicator_convention="talib")
    for bars in samples.values():
        assert_parity(strategy, bars)
    clone = pickle.loads(pickle.dumps(strategy))
    assert clone.indicator_convention == "talib"
