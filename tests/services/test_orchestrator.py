"""The orchestrator requests' translation: its dates (days or ISO-8601 datetimes, inclusive),
its strategy names, and the spec windows they become."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from tradesweep.data import DatasetRegistry, load_sample
from tradesweep.errors import StrategyError
from tradesweep.services.backtest import window_bars
from tradesweep.services.orchestrator import (
    STRATEGY_NAMES,
    BacktestRunRequest,
    OptimizeRequest,
    optimize_spec,
    resolve_strategy,
)
from tradesweep.specs import BacktestSpec
from tradesweep.strategies.builtins import BUILTINS


def request(**fields: object) -> BacktestRunRequest:
    return BacktestRunRequest.model_validate({"strategy_name": "SMA", "symbol": "EURUSD", **fields})


def test_dates_are_days_or_iso_datetimes_in_utc() -> None:
    got = request(start_date="2024-02-01T00:00:00Z", end_date="2024-02-07T23:59:59Z")
    assert got.start_date == datetime(2024, 2, 1, tzinfo=UTC)
    assert got.end_date == datetime(2024, 2, 7, 23, 59, 59, tzinfo=UTC)
    assert request(start_date="2024-02-01").start_date == date(2024, 2, 1)
    naive = request(start_date="2024-02-01T12:00:00").start_date
    assert naive == datetime(2024, 2, 1, 12, tzinfo=UTC)
    shifted = request(start_date="2024-02-01T01:00:00+01:00").start_date
    assert shifted == datetime(2024, 2, 1, 0, tzinfo=UTC)
    dumped = request(start_date="2024-02-01T00:00:00Z").model_dump(mode="json")
    assert dumped["start_date"] == "2024-02-01T00:00:00Z"


@pytest.mark.parametrize(
    "fields",
    [
        {"start_date": "2024-02-30"},
        {"start_date": "2024-02-01T25:00:00Z"},
        {"start_date": "yesterday"},
        {"start_date": "2024-02-02", "end_date": "2024-02-01T23:59:59Z"},
        {"start_date": "2024-02-01T12:00:00Z", "end_date": "2024-02-01T11:00:00Z"},
    ],
)
def test_bad_dates_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        request(**fields)


def test_an_end_day_is_included_with_a_start_datetime_too() -> None:
    """pandas refuses to slice between a bound with a UTC offset and one without: the spec's
    window reads both as instants, a day as the whole day."""
    bars = load_sample("EURUSD")
    mixed = BacktestSpec.from_dict(
        {"data": "EURUSD", "strategy": "sma_crossover", "start": "2017-03-01T00:00:00Z",
         "end": "2017-03-31"}
    )  # fmt: skip
    days = BacktestSpec.from_dict(
        {"data": "EURUSD", "strategy": "sma_crossover", "start": "2017-03-01", "end": "2017-03-31"}
    )
    got, want = window_bars(bars, mixed), window_bars(bars, days)
    assert got.index.equals(want.index)
    assert got.index[-1] >= pd.Timestamp("2017-03-31T20:00:00Z")


def test_orchestrator_names_map_to_builtins(tmp_path: Path) -> None:
    assert set(STRATEGY_NAMES.values()) <= set(BUILTINS)
    assert resolve_strategy("ma_crossover_strategy", tmp_path) == "sma_crossover"
    assert resolve_strategy("ema_crossover_strategy", tmp_path) == "ema_crossover"
    assert resolve_strategy("MACD", tmp_path) == "macd"
    stored = tmp_path / "ma_crossover_strategy.yaml"
    stored.write_text("name: x\n")
    assert resolve_strategy("ma_crossover_strategy", tmp_path) == str(stored.resolve())
    with pytest.raises(StrategyError) as raised:
        resolve_strategy("turtle_strategy", tmp_path)
    assert "ma_crossover_strategy" in raised.value.fix


def test_a_stored_strategy_that_does_not_parse_names_strategy_name_in_an_optimize(
    tmp_path: Path,
) -> None:
    """The sweep's plan builds the strategy once; its error names the request's field and the
    stored name, never the file's server path."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "broken.yaml").write_text("name: broken\nrules: {long: {entry: [1]}}\n")
    request = OptimizeRequest.model_validate(
        {"strategy_name": "broken", "symbol": "EURUSD", "optimize_params": {"fast": [5]}}
    )
    with pytest.raises(StrategyError) as raised:
        optimize_spec(request, folder, DatasetRegistry(tmp_path / "data"))
    assert raised.value.details["field"] == "strategy_name"
    assert str(folder) not in str(raised.value) + str(raised.value.fix)
    assert "stored strategy 'broken'" in str(raised.value)
