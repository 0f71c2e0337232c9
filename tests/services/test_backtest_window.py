"""BacktestSpec's data window: ``start``/``end`` slice the bars (inclusive, a date is the
whole day), ``timeframe`` resamples them; a spec without a window keeps its old spec_id."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesweep.data import resample_bars
from tradesweep.errors import TradesweepError
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec, SpecError

BASE = {"data": "GOOGL", "strategy": "sma_crossover", "params": {"fast": 5, "slow": 20}}


def test_a_spec_without_a_window_keeps_its_spec_id() -> None:
    spec = BacktestSpec.from_dict({**BASE, "settings": {"fees": 0.001}})
    assert not {"timeframe", "start", "end"} & set(spec.to_dict())
    assert spec.spec_id == "47c790809c88ca36"  # computed by the code before the window existed


def test_start_and_end_keep_the_bars_between_them(googl: pd.DataFrame) -> None:
    spec = BacktestSpec.from_dict({**BASE, "start": "2012-03-01", "end": "2015-06-30"})
    report = run_backtest_spec(spec)
    expected = googl[(googl.index >= "2012-03-01") & (googl.index < "2015-07-01")]
    pd.testing.assert_frame_equal(report.bars, expected)
    assert report.bars.index[-1].date().isoformat() <= "2015-06-30"
    assert BacktestSpec.from_dict(spec.to_dict()) == spec
    assert spec.spec_id != BacktestSpec.from_dict(BASE).spec_id


def test_timeframe_resamples_the_window(googl: pd.DataFrame) -> None:
    spec = BacktestSpec.from_dict({**BASE, "timeframe": "1w", "start": "2010-01-01"})
    report = run_backtest_spec(spec)
    expected = resample_bars(googl.loc["2010-01-01":], "1w")
    pd.testing.assert_frame_equal(report.bars, expected)
    assert len(report.bars) < len(googl.loc["2010-01-01":]) / 4


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"timeframe": "4x"}, "timeframe"),
        ({"timeframe": 4}, "timeframe"),
        ({"start": "yesterday-ish"}, "start"),
        ({"end": "2020-13-45"}, "end"),
        ({"start": "2016-01-01", "end": "2015-01-01"}, "start"),
    ],
)
def test_bad_windows_name_the_field(window: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        BacktestSpec.from_dict({**BASE, **window})
    assert caught.value.details["field"] == field


def test_a_window_outside_the_data_or_a_finer_timeframe_is_refused() -> None:
    with pytest.raises(SpecError, match="no bars between") as caught:
        run_backtest_spec(BacktestSpec.from_dict({**BASE, "start": "2090-01-01"}))
    assert caught.value.details["field"] == "start"
    with pytest.raises(TradesweepError, match="finer rule"):
        run_backtest_spec(BacktestSpec.from_dict({**BASE, "timeframe": "4h"}))
