"""Input checks of run_backtest and the shape of BacktestResult."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import (
    BacktestResult,
    EngineSettings,
    run_backtest,
    simulate_reference,
    trade_dt,
)
from tradesweep.errors import DataError
from tradesweep.strategies.base import Signals

SIMULATORS = pytest.mark.parametrize("simulate", [run_backtest, simulate_reference])


@SIMULATORS
def test_missing_price_column(simulate, make_bars, make_signals) -> None:
    bars = make_bars([1, 2, 3]).drop(columns="low")
    with pytest.raises(DataError) as info:
        simulate(bars, make_signals(3))
    assert info.value.details["column"] == "low" and info.value.fix


@SIMULATORS
def test_nan_price_names_row_and_column(simulate, make_bars, make_signals) -> None:
    bars = make_bars([1, 2, 3])
    bars.iloc[1, bars.columns.get_loc("open")] = np.nan
    with pytest.raises(DataError) as info:
        simulate(bars, make_signals(3))
    assert info.value.details == {"column": "open", "row": 1}


@SIMULATORS
def test_signals_must_match_the_bars(simulate, make_bars, make_signals) -> None:
    bars = make_bars([1, 2, 3])
    with pytest.raises(DataError, match="shape") as info:
        simulate(bars, make_signals(4))
    assert info.value.details["field"] == "long_entry"
    floats = Signals(np.zeros(3), *make_signals(3)[1:])
    with pytest.raises(DataError, match="not bool"):
        simulate(bars, floats)


@SIMULATORS
def test_empty_bars_and_wrong_types(simulate, make_bars, make_signals) -> None:
    with pytest.raises(DataError, match="empty"):
        simulate(make_bars([1])[:0], make_signals(0))
    with pytest.raises(DataError, match="DataFrame"):
        simulate({"close": [1.0]}, make_signals(1))
    no_dates = make_bars([1, 2]).reset_index(drop=True)
    with pytest.raises(DataError, match="DatetimeIndex"):
        simulate(no_dates, make_signals(2))


@SIMULATORS
def test_atr_must_have_one_value_per_bar(simulate, make_bars, make_signals) -> None:
    with pytest.raises(DataError, match="atr"):
        simulate(make_bars([1, 2, 3]), make_signals(3), atr=np.ones(2))


def test_result_shapes_and_trades_frame(make_bars, make_signals) -> None:
    bars = make_bars([100, 100, 110, 120, 100, 90])
    signals = make_signals(6, long_entry=[0], short_entry=[2], long_exit=[2])
    settings = EngineSettings(direction="long_short", fees=0.001)
    r = run_backtest(bars, signals, settings)
    assert isinstance(r, BacktestResult) and r.settings is settings
    assert r.trades.dtype == trade_dt and r.equity.dtype == np.float64
    assert r.equity.shape == r.position.shape == (6,)
    assert r.final_equity == r.equity[-1]
    pd.testing.assert_index_equal(r.equity_series().index, bars.index)
    frame = r.trades_frame()
    assert frame["side"].tolist() == ["long", "short"]
    assert frame["exit_reason"].tolist() == ["signal", "end"]
    assert frame["entry_time"].tolist() == [bars.index[1], bars.index[3]]
    assert frame["exit_time"].tolist() == [bars.index[3], bars.index[5]]
    assert str(frame["entry_time"].dt.tz) == "UTC"
    assert frame["pnl"].sum() == pytest.approx(r.final_equity - settings.cash)


def test_no_trades_gives_an_empty_frame(make_bars, make_signals) -> None:
    r = run_backtest(make_bars([1, 2, 3]), make_signals(3))
    frame = r.trades_frame()
    assert len(frame) == 0 and "exit_reason" in frame.columns
    assert r.total_fees == 0.0 and r.stop_and_target_same_bar == 0
    np.testing.assert_array_equal(r.equity, [10_000.0] * 3)


def test_default_settings_are_used(make_bars, make_signals) -> None:
    r = run_backtest(make_bars([1, 2, 3]), make_signals(3, long_entry=[0]))
    assert r.settings == EngineSettings()
