"""Walk-forward: windows, a known answer (the best phase of a wave that flips half way), the
out-of-sample equity against direct backtests, stitching, no lookahead, efficiency."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import run_backtest
from tradesweep.specs import SweepSpecError, WalkForwardSpec
from tradesweep.strategies import Signals, get_strategy
from tradesweep.sweep import Window, make_windows, run_walkforward

PLUGIN = Path(__file__).parent / "plugins" / "phase_probe.py"
RANGES = {"phase": "0:19", "hold": "8:12:2"}
N_BARS, FLIP = 400, 200  # the wave inverts at bar 200: the best phase moves from 15 to 5


def _probe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("phase_probe_bars", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return _probe().wave_bars(N_BARS, flip_at=FLIP)


@pytest.fixture(scope="module")
def data(bars: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("wave") / "flip.csv"
    bars.to_csv(path)
    return str(path)


def wf_spec(data: str, **fields: Any) -> WalkForwardSpec:
    base = {
        "data": data,
        "strategy": str(PLUGIN),
        "ranges": RANGES,
        "train_bars": 100,
        "test_bars": 100,
    }
    return WalkForwardSpec.from_dict({**base, **fields})


@pytest.fixture(scope="module")
def rolling(data: str) -> Any:
    return run_walkforward(wf_spec(data), workers=1)


# ---- windows ------------------------------------------------------------------------------------


def test_rolling_and_anchored_windows() -> None:
    assert make_windows(350, 100, 100, 100, anchored=False) == [
        Window(1, 0, 100, 100, 200),
        Window(2, 100, 200, 200, 300),
    ]
    assert make_windows(400, 100, 50, 75, anchored=True) == [
        Window(1, 0, 100, 100, 150),
        Window(2, 0, 175, 175, 225),
        Window(3, 0, 250, 250, 300),
        Window(4, 0, 325, 325, 375),
    ]
    assert make_windows(199, 100, 100, 100, anchored=False) == []


def test_window_spec_is_validated(data: str) -> None:
    with pytest.raises(SweepSpecError, match="overlap"):
        wf_spec(data, step_bars=50)
    with pytest.raises(SweepSpecError, match="missing"):
        WalkForwardSpec.from_dict({"data": data, "strategy": str(PLUGIN), "test_bars": 10})
    with pytest.raises(SweepSpecError, match="did you mean 'train_bars'"):
        wf_spec(data, trian_bars=10)
    with pytest.raises(SweepSpecError, match="too few for one window"):
        run_walkforward(wf_spec(data, train_bars=390, test_bars=20), workers=1)
    spec = wf_spec(data)
    assert spec.step_bars == 100
    assert WalkForwardSpec.from_dict(spec.to_dict()).spec_id == spec.spec_id


# ---- the known answer ---------------------------------------------------------------------------


def test_each_window_picks_the_phase_its_training_bars_favour(rolling: Any) -> None:
    chosen = [w.params for w in rolling.windows]
    # training windows [0,100) and [100,200) see the first wave, [200,300) the flipped one
    assert chosen == [
        {"phase": 15, "hold": 10},
        {"phase": 15, "hold": 10},
        {"phase": 5, "hold": 10},
    ]
    returns = [w.out_of_sample["total_return_pct"] for w in rolling.windows]
    assert returns[0] > 20 and returns[2] > 20  # trading the wave it was fitted on
    assert returns[1] < 0  # window 2 trades phase 15 into the flipped wave


def test_out_of_sample_equity_equals_a_direct_backtest(rolling: Any, bars: pd.DataFrame) -> None:
    for w in rolling.windows:
        part = slice(w.window.test_start, w.window.test_end)
        strategy = get_strategy(str(PLUGIN), w.params)
        full = strategy.signals(bars)  # the whole series: causal, so the same signals
        direct = run_backtest(bars.iloc[part], Signals(*(np.asarray(s)[part] for s in full)))
        np.testing.assert_array_equal(w.result.equity, direct.equity)
        assert w.out_of_sample["total_trades"] == len(direct.trades)


def test_stitched_equity_chains_the_window_returns(rolling: Any) -> None:
    cash = rolling.spec.sweep.settings.cash
    growth = [w.result.equity[-1] / cash for w in rolling.windows]
    assert rolling.equity.iloc[-1] == pytest.approx(cash * np.prod(growth), rel=1e-12)
    assert len(rolling.equity) == 300 and rolling.equity.index.is_monotonic_increasing
    second = rolling.equity.iloc[100:200].to_numpy()
    np.testing.assert_allclose(second, rolling.windows[1].result.equity * growth[0], rtol=1e-12)
    m = rolling.metrics
    assert m["total_return_pct"] == pytest.approx((np.prod(growth) - 1) * 100, rel=1e-9)
    assert m["total_trades"] == sum(w.out_of_sample["total_trades"] for w in rolling.windows)
    assert m["bars"] == 300


def test_efficiency_is_oos_over_mean_in_sample_annualised_return(rolling: Any) -> None:
    in_sample = [w.in_sample["annualized_return_pct"] for w in rolling.windows]
    assert rolling.in_sample_annualized_return_pct == pytest.approx(np.mean(in_sample))
    assert rolling.efficiency == pytest.approx(
        rolling.metrics["annualized_return_pct"] / np.mean(in_sample)
    )
    assert 0 < rolling.efficiency < 1  # window 2 loses what the others make


def test_no_lookahead_future_bars_do_not_change_a_window(
    data: str, bars: pd.DataFrame, tmp_path: Path
) -> None:
    changed = bars.copy()
    future = changed.index[200:]
    noise = np.random.default_rng(0).normal(1.0, 0.02, len(future))
    for column in ("open", "high", "low", "close"):
        changed.loc[future, column] = changed.loc[future, column] * noise
    changed["high"] = changed[["open", "high", "low", "close"]].max(axis=1)
    changed["low"] = changed[["open", "high", "low", "close"]].min(axis=1)
    path = tmp_path / "changed.csv"
    changed.to_csv(path)
    original = run_walkforward(wf_spec(data, train_bars=100, test_bars=50), workers=1)
    altered = run_walkforward(wf_spec(str(path), train_bars=100, test_bars=50), workers=1)
    for before, after in zip(original.windows[:2], altered.windows[:2], strict=True):
        assert before.window.test_end <= 200
        assert before.params == after.params
        np.testing.assert_array_equal(before.result.equity, after.result.equity)
    assert original.windows[2].window.test_start == 200


def test_anchored_windows_train_from_the_first_bar(data: str) -> None:
    result = run_walkforward(wf_spec(data, anchored=True, test_bars=50), workers=1)
    assert [w.window.train_start for w in result.windows] == [0] * len(result.windows)
    assert [w.window.train_end for w in result.windows] == [100, 150, 200, 250, 300, 350]
    # anchored training keeps the first wave's bars, so phase 15 wins until the flip dominates
    assert result.windows[0].params == {"phase": 15, "hold": 10}


def test_json_is_strict(rolling: Any) -> None:
    out = rolling.to_json()
    json.dumps(out, allow_nan=False)
    assert [w["params"] for w in out["windows"]][2] == {"phase": 5, "hold": 10}
    assert out["windows"][0]["test"] == {
        "start": "2000-04-10T00:00:00+00:00",
        "end": "2000-07-18T00:00:00+00:00",
        "bars": 100,
    }
    assert out["efficiency"]["value"] == pytest.approx(rolling.efficiency)
    assert out["unused_bars"] == 0


def test_a_window_without_a_ranked_winner_stays_in_cash(data: str) -> None:
    result = run_walkforward(wf_spec(data, min_trades=1000), workers=1)
    assert all(w.params is None for w in result.windows)
    assert (result.equity == result.spec.sweep.settings.cash).all()
    assert result.efficiency is None and "no window" in (result.efficiency_reason or "")
