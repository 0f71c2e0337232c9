"""Declarative strategies: what the rules mean, parameters, execution settings."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import yaml

from tradesweep.errors import ParameterError
from tradesweep.strategies import (
    DeclarativeStrategy,
    Execution,
    SignalFlag,
    execution_of,
    get_strategy,
)
from tradesweep.strategies.declarative import declarative_class
from tradesweep.strategies.declarative.indicators import KINDS

SMA_CROSS = """
name: sma_cross_yaml
parameters:
  fast: {type: int, default: 10, min: 2, max: 500}
  slow: {type: int, default: 30, min: 3, max: 1000}
constraints: ["fast < slow"]
indicators:
  f: {type: sma, window: $fast}
  s: {type: sma, window: $slow}
rules:
  long:
    entry: {crosses_above: [f, s]}
    exit: {crosses_below: [f, s]}
  short:
    entry: {crosses_below: [f, s]}
    exit: {crosses_above: [f, s]}
"""


def build(text: str) -> type[DeclarativeStrategy]:
    return declarative_class(yaml.safe_load(text), source="test.yaml")


@pytest.mark.parametrize("params", [{}, {"fast": 5, "slow": 20}, {"fast": 50, "slow": 200}])
def test_yaml_sma_cross_equals_the_builtin(params, samples):
    yaml_strategy = build(SMA_CROSS)(params)
    builtin = get_strategy("sma_crossover", params)
    for bars in samples.values():
        assert np.array_equal(yaml_strategy.signals(bars).flags(), builtin.signals(bars).flags())
    assert yaml_strategy.warmup_period() == builtin.warmup_period()


def test_yaml_macd_and_rsi_equal_the_builtins(samples):
    macd = build(
        """
name: m
indicators: {m: {type: macd, output: hist}}
rules:
  long: {entry: {crosses_above: [m, 0]}, exit: {crosses_below: [m, 0]}}
  short: {entry: {crosses_below: [m, 0]}, exit: {crosses_above: [m, 0]}}
"""
    )()
    ema = build(
        """
name: e
indicators: {f: {type: ema, span: 12}, s: {type: ema, span: 26}}
rules:
  long: {entry: {crosses_above: [f, s]}, exit: {crosses_below: [f, s]}}
  short: {entry: {crosses_below: [f, s]}, exit: {crosses_above: [f, s]}}
"""
    )()
    for bars in samples.values():
        assert np.array_equal(
            macd.signals(bars).flags(), get_strategy("macd").signals(bars).flags()
        )
        assert np.array_equal(
            ema.signals(bars).flags(), get_strategy("ema_crossover").signals(bars).flags()
        )
    assert macd.warmup_period() == get_strategy("macd").warmup_period()


def test_all_any_and_comparisons_on_hand_made_bars(bars_from):
    strategy = build(
        """
name: t
parameters: {level: {type: float, default: 10, min: 0, max: 100}}
rules:
  long:
    entry:
      any:
        - all: [{">": [close, $level]}, {"<=": [close, 12]}]
        - {">=": [high, 20]}
    exit: {"<": [close, 5]}
"""
    )()
    bars = bars_from([9, 11, 12, 13, 4], high=[9, 11, 12, 21, 4])
    le, lx, se, sx = strategy.signals(bars)
    assert le.tolist() == [False, True, True, True, False]
    assert lx.tolist() == [False, False, False, False, True]
    assert not se.any() and not sx.any()
    assert strategy.stream(bars).tolist() == [0, 1, 1, 1, 2]
    assert build(
        "name: u\nparameters: {level: {type: float, default: 10, min: 0, max: 100}}\n"
        "rules: {long: {entry: {'>': [close, $level]}}}"
    )({"level": 11.5}).signals(bars).long_entry.tolist() == [False, False, True, True, False]


def test_shift_delays_an_indicator_by_whole_bars(bars_from):
    strategy = build(
        """
name: prev_close_breakout
indicators: {prev_high: {type: sma, window: 1, source: high, shift: 1}}
rules: {long: {entry: {">": [close, prev_high]}}}
"""
    )()
    bars = bars_from([10, 11, 10.5, 12], high=[10.2, 11.2, 11.0, 12.1])
    assert strategy.signals(bars).long_entry.tolist() == [False, True, False, True]
    assert strategy.stream(bars).tolist() == [0, 1, 0, 1]
    assert strategy.warmup_period() == 1


def test_multi_output_references(bars_from, random_walk):
    strategy = build(
        """
name: bands
indicators: {bb: {type: bollinger, window: 5, num_std: 1}}
rules:
  long: {entry: {crosses_above: [close, bb.lower]}, exit: {">=": [close, bb.middle]}}
  short: {entry: {crosses_below: [close, bb.upper]}, exit: {"<=": [close, bb.middle]}}
"""
    )()
    bars = random_walk(200, 4)
    assert np.array_equal(strategy.signals(bars).flags(), strategy.stream(bars))
    assert strategy.warmup_period() == 4


def test_execution_settings_are_exposed_for_the_engine(examples_dir):
    strategy = get_strategy(examples_dir / "strategies" / "golden_cross.yaml")
    assert strategy.execution == Execution(0.08, 0.5, 0.12, 1.0, 0.3)
    assert execution_of(strategy).settings() == {
        "stop_loss": 0.08,
        "take_profit": 0.5,
        "trailing_stop": 0.12,
        "size": 1.0,
        "max_drawdown": 0.3,
    }
    assert execution_of(get_strategy("rsi")) == Execution()


def test_execution_can_follow_a_parameter():
    cls = build(
        """
name: swept_stop
parameters: {stop: {type: float, default: 0.05, min: 0.01, max: 0.2}}
rules: {long: {entry: {">": [close, 0]}}}
stop_loss: $stop
"""
    )
    assert cls({"stop": 0.1}).execution.stop_loss == 0.1
    assert cls.describe()["execution"] == {"stop_loss": 0.05}


def test_constraints_are_checked_like_builtin_rules():
    cls = build(SMA_CROSS)
    with pytest.raises(ParameterError, match="needs fast < slow"):
        cls({"fast": 40, "slow": 20})


def test_warmup_takes_the_earliest_rule(examples_dir):
    pullback = get_strategy(examples_dir / "strategies" / "rsi_trend_pullback.yaml")
    # the short exit can fire on the RSI alone, one bar after it is defined
    assert pullback.warmup_period() == 14 + 1
    golden = get_strategy(examples_dir / "strategies" / "golden_cross.yaml", {"slow": 60})
    assert golden.warmup_period() == 60


@pytest.mark.parametrize("kind", list(KINDS))
def test_first_valid_bar_of_each_indicator_matches_the_kernels(kind, samples):
    values = {
        name: (arg.default if arg.default is not None else 7)
        for name, arg in KINDS[kind].args.items()
    }
    if kind == "vwap":
        values["window"] = 9
    bars = samples["EURUSD"]
    outputs = KINDS[kind].compute(bars, values)
    expected = KINDS[kind].first_valid(values)
    for out, first in zip(outputs, expected, strict=True):
        assert int(np.flatnonzero(~np.isnan(out))[0]) == first


def test_stream_flags_are_signal_flags(examples_dir, googl):
    strategy = get_strategy(examples_dir / "strategies" / "golden_cross.yaml")
    flags = set(strategy.stream(googl).tolist())
    assert flags <= {0, int(SignalFlag.LONG_ENTRY), int(SignalFlag.LONG_EXIT)}


def test_instances_pickle_for_worker_processes(examples_dir, googl):
    strategy = get_strategy(examples_dir / "strategies" / "golden_cross.yaml", {"fast": 20})
    copy = pickle.loads(pickle.dumps(strategy))
    assert copy.params == strategy.params and copy.execution == strategy.execution
    assert np.array_equal(copy.signals(googl).flags(), strategy.signals(googl).flags())


ATR_MACD = """
name: atr_macd
indicators:
  m: {type: macd, fast: 5, slow: 12, signal: 4, output: line}
  a: {type: atr, period: 10}
rules:
  long: {entry: {crosses_above: [m, a]}, exit: {crosses_below: [m, 0]}}
"""


def test_yaml_indicators_follow_the_talib_convention(samples):
    import tradesweep.indicators as ti

    macd = build(ATR_MACD)(indicator_convention="talib")
    bars = samples["GOOGL"]
    values = macd._indicator_values()
    m = KINDS["macd"].compute(bars, values["m"])
    a = KINDS["atr"].compute(bars, values["a"])
    close = bars["close"].to_numpy()
    want = ti.macd(close, 5, 12, 4, convention="talib")
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(m, want, strict=True))
    assert np.array_equal(a[0], ti.atr(bars, 10, convention="talib").to_numpy(), equal_nan=True)
    # the line starts with the signal under talib; ATR one bar later than under pandas
    assert macd.warmup_period() == build(ATR_MACD)().warmup_period() + 3
    for frame in samples.values():
        np.testing.assert_array_equal(macd.signals(frame).flags(), macd.stream(frame))
    yaml_hist = build(
        """
name: m
indicators: {m: {type: macd, output: hist}}
rules:
  long: {entry: {crosses_above: [m, 0]}, exit: {crosses_below: [m, 0]}}
  short: {entry: {crosses_below: [m, 0]}, exit: {crosses_above: [m, 0]}}
"""
    )(indicator_convention="talib")
    builtin = get_strategy("macd", indicator_convention="talib")
    assert np.array_equal(yaml_hist.signals(bars).flags(), builtin.signals(bars).flags())
