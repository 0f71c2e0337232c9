"""Paper fixtures: a fake clock and the local fake of binance's public API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from .fake_exchange import FakeBinance


class FakeClock:
    """Aware UTC ``now`` that moves only when told to, or when something sleeps on it."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
"""The open time of the fake exchange's first candle."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    fake = FakeBinance().start()
    try:
        yield fake
    finally:
        fake.stop()
