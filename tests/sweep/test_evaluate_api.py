"""``evaluate``: inputs, outputs, path choice, progress, cancellation and worker processes."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from textwrap import dedent

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import EngineSettings
from tradesweep.errors import ParameterError, SettingsError, StrategyError
from tradesweep.strategies import load_plugin, strategy_class
from tradesweep.sweep import fused, per_combination
from tradesweep.sweep.evaluate import (
    METRIC_COLUMNS,
    EvaluationResult,
    ProgressInfo,
    SweepCancelled,
    evaluate,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"
SMA_GRID = [{"fast": f, "slow": s} for f in (5, 10, 20) for s in (30, 50)]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few combinations, so that a small sweep reports progress many times."""
    monkeypatch.setattr(fused, "_FIRST_CHUNK_BAR_COMBINATIONS", 1)
    monkeypatch.setattr(fused, "TARGET_CHUNK_SECONDS", 0.0)
    monkeypatch.setattr(per_combination, "TARGET_CHUNK_SECONDS", 0.0)


def test_result_shape_and_columns(googl):
    frame = pd.DataFrame({"slow": [30, 50, 60], "fast": [10, 10, 20]}, index=[7, 3, 11])
    result = evaluate(googl, "sma_crossover", frame, workers=1)
    assert isinstance(result, EvaluationResult)
    assert result.path == "fused" and result.elapsed_seconds > 0
    assert list(result.params.columns) == ["slow", "fast"]
    assert list(result.params.index) == [7, 3, 11] == list(result.metrics.index)
    assert result.params.dtypes.tolist() == [np.int64, np.int64]
    assert list(result.metrics.columns) == list(METRIC_COLUMNS)
    assert (result.metrics.dtypes == np.float64).all()
    assert result.block_stats.sum_r.shape == (16, 3)
    assert result.block_stats.n_blocks == 16


def test_missing_parameters_take_defaults_and_come_last(googl):
    result = evaluate(googl, "rsi", [{"overbought": 80}, {"overbought": 75.5, "period": 9}])
    assert list(result.params.columns) == ["overbought", "period", "oversold"]
    assert result.params["period"].tolist() == [14, 9]
    assert result.params["overbought"].dtype == np.float64


def test_no_block_stats_when_not_asked(googl):
    assert evaluate(googl, "sma_crossover", SMA_GRID, n_blocks=None).block_stats is None


@pytest.mark.parametrize(
    ("combinations", "message"),
    [
        ([{"fats": 10, "slow": 30}], "did you mean 'fast'"),
        ([{"fast": 10, "slow": 30}, {"fast": 40, "slow": 30}], "combination 1"),
        ([{"fast": 1.5, "slow": 30}], "whole number"),
        ([], "no combinations"),
        ([{"fast": 10, "slow": 30}, {"fast": 10, "slow": None}], "combination 1 has no value"),
    ],
)
def test_bad_combinations_are_refused(googl, combinations, message):
    with pytest.raises(ParameterError, match=message):
        evaluate(googl, "sma_crossover", combinations)


def test_bad_arguments_are_refused(googl):
    with pytest.raises(StrategyError, match="no fused form"):
        evaluate(googl, "vwap", [{}], path="fused")
    with pytest.raises(SettingsError, match="path"):
        evaluate(googl, "vwap", [{}], path="fast")
    with pytest.raises(SettingsError, match="workers"):
        evaluate(googl, "vwap", [{}], path="general", workers=0)
    with pytest.raises(SettingsError, match="n_blocks"):
        evaluate(googl, "sma_crossover", SMA_GRID, n_blocks=0)
    with pytest.raises(StrategyError, match="unknown strategy"):
        evaluate(googl, "sma_crosover", SMA_GRID)


def test_auto_path_choice(googl, tmp_path):
    assert evaluate(googl, "ema_crossover", SMA_GRID, workers=1).path == "fused"
    assert evaluate(googl, "vwap", [{"window": 20}], workers=1).path == "general"
    # a subclass that keeps the built-in's signals keeps the fused form; one that changes
    # them does not
    keep = type("Keep", (strategy_class("sma_crossover"),), {})
    assert evaluate(googl, keep, SMA_GRID, workers=1).path == "fused"
    plugin = tmp_path / "inverted.py"
    plugin.write_text(
        dedent(
            """
            from tradesweep.strategies.builtins import SmaCrossover
            from tradesweep.strategies.base import Signals

            class Inverted(SmaCrossover):
                name = "inverted"

                def signals(self, bars):
                    s = super().signals(bars)
                    return Signals(s.long_exit, s.long_entry, s.short_exit, s.short_entry)
            """
        )
    )
    assert evaluate(googl, str(plugin), SMA_GRID, workers=1).path == "general"


@pytest.mark.parametrize("path", ["fused", "general"])
def test_progress_counts_up_to_the_total(googl, small_chunks, path):
    seen: list[ProgressInfo] = []
    evaluate(googl, "sma_crossover", SMA_GRID, path=path, workers=1, progress=seen.append)
    done = [info.done for info in seen]
    assert len(done) >= 3
    assert all(b > a for a, b in itertools.pairwise(done))
    assert done[-1] == len(SMA_GRID) and seen[-1].total == len(SMA_GRID)
    assert seen[-1].eta_seconds == 0.0 and seen[-1].rate_per_second > 0


@pytest.mark.parametrize("path", ["fused", "general"])
def test_cancel_from_the_progress_callback(googl, small_chunks, path):
    stop = threading.Event()
    calls: list[int] = []

    def progress(info: ProgressInfo) -> None:
        calls.append(info.done)
        stop.set()

    with pytest.raises(SweepCancelled) as caught:
        evaluate(googl, "sma_crossover", SMA_GRID, path=path, workers=1, progress=progress,
                 cancel=stop)  # fmt: skip
    assert caught.value.code == "cancelled"
    assert len(calls) == 1 and caught.value.details["done"] == calls[0] < len(SMA_GRID)


def test_cancel_before_anything_runs(googl):
    with pytest.raises(SweepCancelled):
        evaluate(googl, "sma_crossover", SMA_GRID, cancel=lambda: True)


def test_process_pool_matches_in_process(googl, tmp_path, monkeypatch):
    """Two worker processes and a plugin class that only its file can rebuild: the same
    numbers as in this process."""
    monkeypatch.setattr(per_combination, "POOL_MIN_SECONDS", 0.0)  # however quick the sweep is
    plugin = tmp_path / "momentum.py"
    plugin.write_text(
        dedent(
            """
            import numpy as np
            from tradesweep.strategies import Param, Signals, Strategy

            class Momentum(Strategy):
                name = "momentum"
                description = "long after `lookback` rising closes in a row"
                schema = (Param("lookback", int, 3, 1, 50, "bars"),)

                def warmup_period(self):
                    return self.params["lookback"]

                def signals(self, bars):
                    up = np.diff(bars["close"].to_numpy(), prepend=np.nan) > 0
                    k = self.params["lookback"]
                    run = np.convolve(up, np.ones(k), "full")[: len(up)] >= k
                    return Signals(run, ~up, np.zeros_like(up), np.zeros_like(up))

                def on_candle(self, candle):
                    return None

                def reset(self):
                    pass
            """
        )
    )
    cls = load_plugin(plugin)[0]
    combos = [{"lookback": k} for k in range(1, 13)]
    settings = EngineSettings(fees=0.001)
    here = evaluate(googl, cls, combos, settings, workers=1)
    pool = evaluate(googl, cls, combos, settings, workers=2)
    assert pool.path == here.path == "general"
    pd.testing.assert_frame_equal(pool.metrics, here.metrics)
    np.testing.assert_array_equal(pool.block_stats.sum_r, here.block_stats.sum_r)


def test_declarative_execution_settings_apply_as_in_a_backtest(googl):
    """A declarative file's stop_loss / take_profit / trailing_stop / max_drawdown fill the
    settings left at their defaults: the same numbers as ``run_backtest_spec``."""
    from tradesweep.services.backtest import run_backtest_spec
    from tradesweep.specs import BacktestSpec

    path = str(EXAMPLES / "golden_cross.yaml")
    combos = [{"fast": 10, "slow": 40}, {"fast": 20, "slow": 100}]
    settings = EngineSettings(fees=0.001, stop_loss=0.05)  # explicit: beats the file's 0.08
    result = evaluate(googl, path, combos, settings, workers=1)
    for i, params in enumerate(combos):
        spec = BacktestSpec(data="GOOGL", strategy=path, params=params, settings=settings)
        want = run_backtest_spec(spec).metrics
        for key in METRIC_COLUMNS:
            expected = np.nan if want[key] is None else want[key]
            np.testing.assert_allclose(result.metrics[key].iloc[i], expected, rtol=1e-12)


def test_portable_class_refuses_what_workers_cannot_rebuild():
    local = type("Local", (strategy_class("vwap"),), {"signals": lambda self, bars: None})
    with pytest.raises(StrategyError, match="cannot be sent to worker processes"):
        per_combination.portable_class(local)
