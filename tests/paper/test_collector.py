"""The ccxt collector against a local fake of binance: closed candles stored once, the open
candle never, a restart backfills the gap, a burst of 500/429 is retried and breaks the
circuit, an unknown exchange or symbol is one clear error. Real SQL on both backends."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.notify.breaker import BreakerState, CircuitBreaker
from tradesweep.paper.candles import CandleStore
from tradesweep.paper.sources import (
    ExchangeCollector,
    ExchangeUnavailable,
    RetryPolicy,
    UnknownExchange,
    UnknownSymbol,
    open_exchange,
)

from .conftest import T0, FakeClock
from .fake_exchange import FakeBinance, kline

MINUTE = 60_000
START_MS = int(T0.timestamp() * 1000)


def fill(fake: FakeBinance, count: int) -> None:
    """The fake holds ``count`` one-minute candles from T0 (the last may still be open)."""
    fake.history = [kline(START_MS + i * MINUTE, 100.0 + i) for i in range(count)]


def collector(
    fake: FakeBinance, clock: FakeClock, store: CandleStore | None, **kwargs: Any
) -> ExchangeCollector:
    exchange = open_exchange("binance", api_base=fake.url, config={"enableRateLimit": False})
    return ExchangeCollector(
        exchange, "BTC/USDT", "1m", store=store, clock=clock, sleep=clock.sleep, **kwargs
    )


def stored_minutes(store: CandleStore) -> list[int]:
    return [
        int((c.time - pd.Timestamp(T0)) / pd.Timedelta(minutes=1))
        for c in store.range("BTC/USDT", "1m")
    ]


def test_each_closed_candle_is_stored_once_and_the_open_one_never(
    fake_binance: FakeBinance, clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    store = CandleStore(sessions)
    fill(fake_binance, 5)
    clock.now = T0 + timedelta(minutes=4, seconds=30)  # candle 4 is still forming
    live = collector(fake_binance, clock, store)

    first = live.poll()
    assert [c.time_ms for c in first] == [START_MS + i * MINUTE for i in range(4)]
    assert stored_minutes(store) == [0, 1, 2, 3]
    assert live.poll() == []  # the same candles again, and the open one: nothing new

    # overlapping polls from a collector that believes it last saw candle 1
    overlapping = collector(fake_binance, clock, store, last_time=T0 + timedelta(minutes=1))
    assert [c.time_ms for c in overlapping.poll()] == [START_MS + 2 * MINUTE, START_MS + 3 * MINUTE]
    assert store.add(first) == 0
    assert stored_minutes(store) == [0, 1, 2, 3]

    fill(fake_binance, 6)
    clock.now = T0 + timedelta(minutes=5, seconds=1)  # candle 4 closed, 5 forming
    assert [c.time_ms for c in live.poll()] == [START_MS + 4 * MINUTE]
    assert stored_minutes(store) == [0, 1, 2, 3, 4]
    candle = store.range("BTC/USDT", "1m")[-1]
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
        104.0,
        105.0,
        103.0,
        104.0,
        1.5,
    )


def test_a_restart_backfills_the_gap_from_the_store(
    fake_binance: FakeBinance, clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    store = CandleStore(sessions)
    fill(fake_binance, 4)
    clock.now = T0 + timedelta(minutes=3, seconds=5)
    collector(fake_binance, clock, store, limit=50).poll()
    assert stored_minutes(store) == [0, 1, 2]

    # down for a while: 230 more candles on the exchange, more than four pages of 50
    fill(fake_binance, 234)
    clock.now = T0 + timedelta(minutes=233, seconds=5)
    fake_binance.requests.clear()
    restarted = collector(fake_binance, clock, store, limit=50)
    backfilled = restarted.poll()

    assert [c.time_ms for c in backfilled] == [START_MS + i * MINUTE for i in range(3, 233)]
    assert stored_minutes(store) == list(range(233))
    klines = [path for path in fake_binance.requests if "/klines" in path]
    assert f"startTime={START_MS + 3 * MINUTE}" in klines[0]  # resumed after the last stored
    assert len(klines) == 5
    assert restarted.poll() == []


def test_last_time_given_by_the_caller_wins_over_an_empty_store(
    fake_binance: FakeBinance, clock: FakeClock
) -> None:
    fill(fake_binance, 10)
    clock.now = T0 + timedelta(minutes=10)
    live = collector(fake_binance, clock, None, last_time=START_MS + 6 * MINUTE)
    assert [c.time_ms for c in live.poll()] == [START_MS + i * MINUTE for i in (7, 8, 9)]
    assert live.last_time == pd.Timestamp(T0) + pd.Timedelta(minutes=9)


def test_a_burst_of_500_and_429_is_retried_then_breaks_the_circuit(
    fake_binance: FakeBinance,
    clock: FakeClock,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tradesweep.paper.sources")
    store = CandleStore(sessions)
    fill(fake_binance, 3)
    clock.now = T0 + timedelta(minutes=3)
    breaker = CircuitBreaker(failure_threshold=4, cool_off=timedelta(seconds=60), clock=clock)
    live = collector(
        fake_binance, clock, store, retry=RetryPolicy(attempts=3, base=1, cap=8), breaker=breaker
    )
    live.check()  # markets load before the burst
    fake_binance.failures = [500, 429, 500, 429, 503]

    with pytest.raises(ExchangeUnavailable, match=r"did not answer after 3 attempt\(s\)"):
        live.poll()
    assert clock.slept == [1, 2]  # exponential backoff, bounded to 3 attempts
    assert fake_binance.kline_requests() == 3
    assert breaker.state("binance") is BreakerState.CLOSED

    with pytest.raises(ExchangeUnavailable, match="circuit breaker open until") as opened:
        live.poll()  # the 4th consecutive failure opens it; no further attempt is made
    assert breaker.state("binance") is BreakerState.OPEN
    assert opened.value.retry_at == clock.now + timedelta(seconds=60)
    assert clock.slept == [1, 2]
    assert fake_binance.kline_requests() == 4

    with pytest.raises(ExchangeUnavailable, match="is open"):
        live.poll()  # still open: no call at all
    assert fake_binance.kline_requests() == 4

    clock.advance(60)
    with pytest.raises(ExchangeUnavailable, match="circuit breaker open until"):
        live.poll()  # the half-open probe meets the 503: open again
    assert fake_binance.kline_requests() == 5
    assert breaker.state("binance") is BreakerState.OPEN

    clock.advance(60)
    fill(fake_binance, 6)
    closed = live.poll()  # the probe succeeds: closed, and the candles arrive
    assert breaker.state("binance") is BreakerState.CLOSED
    assert [c.time_ms for c in closed] == [START_MS + i * MINUTE for i in range(5)]
    assert stored_minutes(store) == [0, 1, 2, 3, 4]

    logged = caplog.text
    assert "attempt 1 failed (ExchangeNotAvailable" in logged
    assert "attempt 2 failed (DDoSProtection" in logged  # ccxt's binance names a 429 so
    assert "circuit breaker closed -> open" in logged
    assert "circuit breaker open -> half_open" in logged
    assert "circuit breaker half_open -> closed" in logged


def test_an_unknown_symbol_is_one_clear_error(fake_binance: FakeBinance, clock: FakeClock) -> None:
    exchange = open_exchange("binance", api_base=fake_binance.url)
    with pytest.raises(UnknownSymbol) as caught:
        ExchangeCollector(exchange, "BTC/USTD", "1m", clock=clock, sleep=clock.sleep).poll()
    assert caught.value.message == "exchange binance does not list symbol 'BTC/USTD'"
    assert "did you mean 'BTC/USDT'?" in str(caught.value)
    assert caught.value.details == {"field": "symbol", "exchange": "binance"}
    assert fake_binance.kline_requests() == 0

    with pytest.raises(UnknownSymbol, match="has no timeframe '7m'"):
        ExchangeCollector(exchange, "BTC/USDT", "7m", clock=clock, sleep=clock.sleep).poll()


def test_an_unknown_exchange_is_one_clear_error() -> None:
    with pytest.raises(UnknownExchange) as caught:
        open_exchange("binanse")
    assert caught.value.message == "unknown exchange 'binanse'"
    assert "did you mean 'binance'?" in str(caught.value)
    assert caught.value.to_dict()["error"] == "unknown_exchange"


def test_run_polls_until_stopped_and_waits_out_an_open_breaker(
    fake_binance: FakeBinance, clock: FakeClock
) -> None:
    fill(fake_binance, 3)
    clock.now = T0 + timedelta(minutes=2, seconds=30)
    breaker = CircuitBreaker(failure_threshold=1, cool_off=timedelta(seconds=45), clock=clock)
    live = collector(
        fake_binance, clock, None, retry=RetryPolicy(attempts=1, base=1), breaker=breaker
    )
    live.check()
    fake_binance.failures = [500]
    batches: list[list[int]] = []
    live.run(
        lambda candles: batches.append([c.time_ms for c in candles]), stop=lambda: len(batches) == 1
    )
    assert clock.slept[0] == 45  # waited for the breaker, then polled again at 3:15
    assert batches == [[START_MS, START_MS + MINUTE, START_MS + 2 * MINUTE]]


class RepeatingExchange:
    """An exchange whose answers repeat candles before ``since`` (ccxt filters those for
    binance; the collector must not rely on it): the collector's own de-duplication."""

    id = "repeating"

    def __init__(self, rows: list[list[Any]]) -> None:
        self.rows = rows
        self.timeframes = {"1m": "1m"}

    def load_markets(self) -> dict[str, Any]:
        return {"BTC/USDT": {}}

    def parse_timeframe(self, timeframe: str) -> int:
        return 60

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int) -> Any:
        start = 0 if since is None else max(i for i, r in enumerate(self.rows) if r[0] < since)
        return [row[:6] for row in self.rows[max(start - 1, 0) : start + limit]]


def test_candles_an_exchange_repeats_are_dropped(
    clock: FakeClock, sessions: sessionmaker[Session]
) -> None:
    store = CandleStore(sessions)
    exchange = RepeatingExchange([kline(START_MS + i * MINUTE, 100.0 + i) for i in range(8)])
    clock.now = T0 + timedelta(minutes=5)
    live = ExchangeCollector(
        exchange, "BTC/USDT", "1m", store=store, clock=clock, sleep=clock.sleep, limit=3
    )
    assert [c.time_ms for c in live.poll()] == [START_MS + i * MINUTE for i in range(5)]
    clock.now = T0 + timedelta(minutes=8)
    assert [c.time_ms for c in live.poll()] == [START_MS + i * MINUTE for i in (5, 6, 7)]
    assert stored_minutes(store) == list(range(8))
