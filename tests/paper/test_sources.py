"""Replay of a registered dataset (order, window, pacing on a fake clock), the Candle value,
and the candle store on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.data import DatasetRegistry, load_sample
from tradesweep.errors import DataError, SettingsError
from tradesweep.paper.candles import Candle, CandleStore
from tradesweep.paper.sources import ReplaySource


class MonotonicClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def registry(tmp_path: Path) -> DatasetRegistry:
    return DatasetRegistry(tmp_path / "data")


def test_replay_yields_every_bar_in_time_order(registry: DatasetRegistry) -> None:
    bars = load_sample("GOOGL")
    candles = list(ReplaySource(registry, "googl"))
    assert len(candles) == len(bars)
    assert [c.time for c in candles] == list(bars.index)
    assert all(a.time < b.time for a, b in itertools.pairwise(candles))
    first = candles[0]
    assert (first.symbol, first.timeframe) == ("GOOGL", "1D")
    assert (first.open, first.high, first.low, first.close, first.volume) == tuple(
        float(bars[name].iloc[0]) for name in ("open", "high", "low", "close", "volume")
    )


def test_replay_window_is_the_backtest_window(registry: DatasetRegistry) -> None:
    from tradesweep.data.window import window_bars

    bars = load_sample("GOOGL")
    expected = window_bars(bars, "GOOGL", None, "2015-02", "2015-03-10")
    candles = list(ReplaySource(registry, "GOOGL", start="2015-02", end="2015-03-10"))
    assert [c.time for c in candles] == list(expected.index)
    assert candles[0].time >= pd.Timestamp("2015-02-01", tz="UTC")
    assert candles[-1].time == pd.Timestamp("2015-03-10", tz="UTC")  # the end is inclusive

    weekly = list(ReplaySource(registry, "GOOGL", start="2015-01", end="2015-12", timeframe="1W"))
    assert {c.timeframe for c in weekly} == {"1W"}
    assert len(weekly) == len(window_bars(bars, "GOOGL", "1W", "2015-01", "2015-12"))


def test_replay_refuses_a_bad_window_or_speed(registry: DatasetRegistry) -> None:
    with pytest.raises(DataError, match="start 2021-01-01 is after end 2020-01-01"):
        ReplaySource(registry, "GOOGL", start="2021-01-01", end="2020-01-01")
    with pytest.raises(SettingsError, match="replay speed") as caught:
        ReplaySource(registry, "GOOGL", speed=-1)
    assert caught.value.details == {"field": "speed"}
    with pytest.raises(DataError, match="no bars between"):
        list(ReplaySource(registry, "GOOGL", start="1990-01-01", end="1990-02-01"))


def test_replay_speed_paces_bars_per_second_on_the_clock(registry: DatasetRegistry) -> None:
    clock = MonotonicClock()
    source = ReplaySource(
        registry,
        "GOOGL",
        start="2015-01",
        end="2015-01",
        speed=4,
        clock=clock,
        sleep=clock.sleep,
    )
    arrivals = []
    for _candle in source:
        arrivals.append(clock.now - 100.0)
    assert arrivals == [i / 4 for i in range(len(arrivals))]  # bar i at i/4 seconds
    assert len(clock.slept) == len(arrivals) - 1

    clock = MonotonicClock()
    fast = list(ReplaySource(registry, "GOOGL", end="2009-06", clock=clock, sleep=clock.sleep))
    assert fast and clock.slept == []  # speed 0: never waits


def test_candle_round_trips_through_a_dict() -> None:
    candle = Candle("BTC/USDT", "1m", pd.Timestamp("2026-01-05T12:00Z"), 1.0, 2.0, 0.5, 1.5, 3.0)
    data = candle.to_dict()
    assert data["time"] == 1767614400000
    assert Candle.from_dict(data) == candle
    assert Candle.from_dict({**data, "time": "2026-01-05T12:00:00+00:00"}) == candle
    assert candle.time.tzinfo is not None


def test_the_store_keeps_each_candle_once(sessions: sessionmaker[Session]) -> None:
    store = CandleStore(sessions)
    t = pd.Timestamp("2026-01-05T12:00Z")
    candles = [
        Candle("BTC/USDT", "1m", t + pd.Timedelta(minutes=i), 1.0 + i, 2.0, 0.5, 1.5, 3.0)
        for i in range(5)
    ]
    assert store.last_time("BTC/USDT", "1m") is None
    assert store.add(candles[:3]) == 3
    assert store.add(candles) == 2  # the first three are already there
    assert store.add(candles) == 0
    assert store.add([]) == 0
    other = Candle("ETH/USDT", "1m", t, 9.0, 9.0, 9.0, 9.0, 9.0)
    assert store.add([other, Candle("BTC/USDT", "5m", t, 1, 1, 1, 1, 1)]) == 2

    assert store.range("BTC/USDT", "1m") == candles
    assert store.last_time("BTC/USDT", "1m") == t + pd.Timedelta(minutes=4)
    inside = store.range("BTC/USDT", "1m", t + pd.Timedelta(minutes=1), "2026-01-05T12:03Z")
    assert inside == candles[1:4]  # both bounds inclusive
    assert store.range("ETH/USDT", "1m") == [other]


def test_replay_and_the_store_do_not_import_ccxt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tradesweep.paper.sources, tradesweep.paper.candles\n"
        "from tradesweep.data import DatasetRegistry\n"
        "print('ccxt' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"
