"""Candle sources: a replay of a registered dataset, and live closed candles from an exchange.

:class:`ReplaySource` yields the bars of a dataset as :class:`Candle` objects in time order,
inside the same inclusive ``start``/``end`` window the backtest reads, as fast as possible
(``speed=0``) or at ``speed`` bars per second.

:class:`ExchangeCollector` polls an exchange's public OHLCV through ccxt (no API keys). Its
guarantees:

- **closed candles only**: a candle whose ``time + timeframe`` is after now is still forming
  and is never yielded or stored;
- **each candle once**: candles at or before the last one seen are dropped, and the store
  ignores a (symbol, timeframe, time) it already holds;
- **no gap after a restart**: polling resumes from the last stored candle (or the
  ``last_time`` given) and pages forward until it reaches the present;
- **bounded retries, then a breaker**: a network error, a 429 or a 5xx is retried with
  exponential backoff a bounded number of times; consecutive failures open the reused
  :class:`~tradesweep.notify.breaker.CircuitBreaker`, which makes no call until its cool-off
  has passed and then lets one probe through. Every transition is logged.

ccxt is imported only when a collector is built (the ``paper`` extra); the core install never
imports it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from tradesweep.data.interval import infer_interval, interval_label
from tradesweep.data.registry import DatasetRegistry
from tradesweep.data.window import check_window, window_bars
from tradesweep.errors import DataError, SettingsError, TradesweepError, did_you_mean
from tradesweep.paper.candles import Candle, CandleStore, utc_timestamp

if TYPE_CHECKING:  # the breaker's module imports SQLAlchemy; a replay (the core install) needs none
    from tradesweep.notify.breaker import BreakerState, CircuitBreaker

log = logging.getLogger(__name__)

PAPER_EXTRA = "pip install 'tradesweep[paper]'"


class UnknownExchange(TradesweepError):
    """An exchange id that ccxt does not know."""

    code = "unknown_exchange"


class UnknownSymbol(TradesweepError):
    """A symbol (or timeframe) the exchange does not list."""

    code = "unknown_symbol"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ExchangeUnavailable(Exception):
    """The exchange did not answer after the bounded retries, or its breaker is open.

    Not a user's mistake: the collector logs it and polls again later.
    """

    def __init__(self, message: str, *, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


# ---------------------------------------------------------------------------- replay


class ReplaySource:
    """The bars of a registered dataset as candles, oldest first.

    ``start``/``end`` are inclusive ISO bounds read exactly as the backtest spec reads them
    (:mod:`tradesweep.data.window`); ``timeframe`` resamples like the spec's. ``speed`` is 0
    for as fast as possible or N bars per second, paced by ``clock`` (seconds, monotonic) and
    ``sleep``, which tests replace so that nothing really waits.
    """

    def __init__(
        self,
        registry: DatasetRegistry,
        ticker: str,
        *,
        start: str | None = None,
        end: str | None = None,
        timeframe: str | None = None,
        speed: float = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(speed, int | float) or isinstance(speed, bool) or not speed >= 0:
            raise SettingsError(
                f"replay speed must be 0 or a positive number of bars per second, got {speed!r}",
                fix="use --speed 0 (as fast as possible) or e.g. --speed 10",
                field="speed",
            )
        check_window(timeframe, start, end)
        self.registry = registry
        self.symbol = registry.info(ticker).ticker
        self.start, self.end, self.timeframe_rule = start, end, timeframe
        self.speed = float(speed)
        self.clock, self.sleep = clock, sleep

    def bars(self) -> pd.DataFrame:
        """The windowed (and resampled) bars the replay yields."""
        bars = self.registry.load(self.symbol)
        return window_bars(bars, self.symbol, self.timeframe_rule, self.start, self.end)

    def __iter__(self) -> Iterator[Candle]:
        bars = self.bars()
        timeframe = self.timeframe_rule or _label(bars.index)
        columns = [bars[name].to_numpy(dtype=float) for name in _OHLCV]
        began = self.clock()
        for i, stamp in enumerate(bars.index):
            if self.speed:
                wait = began + i / self.speed - self.clock()
                if wait > 0:
                    self.sleep(wait)
            yield Candle(
                self.symbol,
                timeframe,
                utc_timestamp(stamp),
                *(float(column[i]) for column in columns),
            )


_OHLCV = ("open", "high", "low", "close", "volume")


def _label(index: pd.DatetimeIndex) -> str:
    try:
        return interval_label(infer_interval(index))
    except DataError:  # a single bar shows no interval
        return "1D"


# ---------------------------------------------------------------------------- exchange


def open_exchange(
    exchange_id: str, *, api_base: str | None = None, config: dict[str, Any] | None = None
) -> Any:
    """A ccxt exchange for public data. ``api_base`` (``http://host:port``) replaces the
    scheme and host of every API URL the exchange has, keeping the paths: a local fake or a
    proxy answers in the exchange's place. An unknown id raises :class:`UnknownExchange`."""
    ccxt = _ccxt()
    if not isinstance(exchange_id, str) or exchange_id not in ccxt.exchanges:
        raise UnknownExchange(
            f"unknown exchange {exchange_id!r}",
            fix=did_you_mean(str(exchange_id), ccxt.exchanges)
            + "use a ccxt exchange id such as binance, kraken or coinbase",
            field="exchange",
        )
    exchange = getattr(ccxt, exchange_id)(dict(config or {}))
    if api_base is not None:
        exchange.urls["api"] = _rebase(exchange.urls["api"], api_base)
    return exchange


def _rebase(urls: Any, base: str) -> Any:
    if isinstance(urls, dict):
        return {key: _rebase(value, base) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith("http"):
        parts, new = urlsplit(urls), urlsplit(base)
        return urlunsplit((new.scheme, new.netloc, parts.path, parts.query, parts.fragment))
    return urls


def _ccxt() -> Any:
    try:
        import ccxt
    except ImportError:
        raise SettingsError(
            "live exchange candles need ccxt, which is not installed",
            fix=PAPER_EXTRA,
            field="exchange",
        ) from None
    return ccxt


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of one exchange call: ``attempts`` in all, waiting ``base`` seconds
    doubled after each failure, at most ``cap``."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0


class ExchangeCollector:
    """Closed candles of one ``symbol`` at one ``timeframe`` from a ccxt ``exchange``.

    ``store`` keeps every new candle and tells where to resume; ``last_time`` (the open time
    of the last candle already held) overrides it. ``clock`` returns aware UTC datetimes and
    drives both "is this candle closed" and the breaker; ``sleep`` waits between retries and
    polls. Tests replace both. A ``breaker`` given without a listener gets one that logs its
    transitions. Errors other than the transient ones (and a bad symbol) are not retried and
    come out as ccxt raised them.
    """

    def __init__(
        self,
        exchange: Any,
        symbol: str,
        timeframe: str,
        *,
        store: CandleStore | None = None,
        last_time: pd.Timestamp | datetime | int | str | None = None,
        limit: int = 500,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1:
            raise SettingsError(f"limit must be at least 1, got {limit}", field="limit")
        self.exchange = exchange
        self.symbol, self.timeframe = symbol, timeframe
        self.store = store
        self.limit = limit
        self.retry = retry or RetryPolicy()
        self.clock, self.sleep = clock, sleep
        from tradesweep.notify.breaker import CircuitBreaker

        self.breaker = breaker or CircuitBreaker(
            failure_threshold=5, cool_off=timedelta(seconds=60), clock=clock
        )
        if self.breaker.listener is None:
            self.breaker.listener = _log_transition
        self._last: int | None = None if last_time is None else utc_ms(last_time)
        self._resumed = last_time is not None
        self._checked = False
        self._tf_ms = 0

    @property
    def key(self) -> str:
        """The breaker's name for this exchange."""
        return str(self.exchange.id)

    @property
    def last_time(self) -> pd.Timestamp | None:
        """The open time of the newest candle seen or stored."""
        return None if self._last is None else utc_timestamp(self._last)

    def check(self) -> None:
        """Load the markets once and refuse a symbol or timeframe the exchange does not list
        (:class:`UnknownSymbol`)."""
        if self._checked:
            return
        markets = self._call(self.exchange.load_markets)
        if self.symbol not in markets:
            raise UnknownSymbol(
                f"exchange {self.key} does not list symbol {self.symbol!r}",
                fix=did_you_mean(self.symbol, list(markets))
                + "use the exchange's unified symbol, e.g. BTC/USDT",
                field="symbol",
                exchange=self.key,
            )
        timeframes = getattr(self.exchange, "timeframes", None) or {}
        if timeframes and self.timeframe not in timeframes:
            raise UnknownSymbol(
                f"exchange {self.key} has no timeframe {self.timeframe!r}",
                fix=f"use one of {', '.join(timeframes)}",
                field="timeframe",
                exchange=self.key,
            )
        self._tf_ms = int(self.exchange.parse_timeframe(self.timeframe)) * 1000
        self._checked = True

    def poll(self) -> list[Candle]:
        """Fetch every candle closed since the last one held, oldest first; stores them.

        Pages forward ``limit`` candles at a time, so the first poll after a restart
        backfills the whole gap. Raises :class:`ExchangeUnavailable` when the retries are
        spent or the breaker is open.
        """
        self.check()
        if not self._resumed:
            self._resumed = True
            if self.store is not None:
                stored = self.store.last_time(self.symbol, self.timeframe)
                self._last = None if stored is None else utc_ms(stored)
        new: list[Candle] = []
        while True:
            since = None if self._last is None else self._last + self._tf_ms
            rows = self._call(
                self.exchange.fetch_ohlcv, self.symbol, self.timeframe, since, self.limit
            )
            now = utc_ms(self.clock())
            fresh: dict[int, list[Any]] = {}
            for row in rows:
                opened = int(row[0])
                if opened + self._tf_ms > now:
                    continue  # still forming
                if self._last is not None and opened <= self._last:
                    continue  # seen already
                fresh[opened] = row
            if not fresh:
                break
            candles = [self._candle(fresh[opened]) for opened in sorted(fresh)]
            if self.store is not None:
                self.store.add(candles)
            new.extend(candles)
            self._last = max(fresh)
            if len(rows) < self.limit:
                break
        return new

    def run(
        self,
        on_candles: Callable[[list[Candle]], None] | None = None,
        *,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Poll until ``stop()``: after each poll, wait for the next candle to close; while
        the exchange is unavailable, log it and wait for the breaker (or one timeframe)."""
        while not stop():
            try:
                candles = self.poll()
            except ExchangeUnavailable as exc:
                log.warning("collector %s %s %s: %s", self.key, self.symbol, self.timeframe, exc)
                wait = self._tf_ms / 1000
                if exc.retry_at is not None:
                    wait = max((exc.retry_at - self.clock()).total_seconds(), 0.0)
                self.sleep(wait)
                continue
            if candles and on_candles is not None:
                on_candles(candles)
            self.sleep(self._until_next_close())

    def _until_next_close(self) -> float:
        now = utc_ms(self.clock())
        if self._last is None:
            return self._tf_ms / 1000
        next_close = self._last + 2 * self._tf_ms
        return min(max((next_close - now) / 1000, 1.0), self._tf_ms / 1000)

    def _candle(self, row: list[Any]) -> Candle:
        opened, o, h, low, c, v = row[:6]
        return Candle(
            self.symbol,
            self.timeframe,
            utc_timestamp(int(opened)),
            float(o),
            float(h),
            float(low),
            float(c),
            float(v or 0.0),
        )

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` through the breaker, retried on transient errors with backoff."""
        import tenacity

        ccxt = _ccxt()
        transient = (ccxt.NetworkError, ccxt.RateLimitExceeded, ccxt.ExchangeNotAvailable)

        def worth_retrying(exc: BaseException) -> bool:  # not once the breaker has opened
            return isinstance(exc, transient) and not self._open()

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=tenacity.wait_exponential(multiplier=self.retry.base, max=self.retry.cap),
            retry=tenacity.retry_if_exception(worth_retrying),
            sleep=self.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(fn, args, transient, ccxt)
        except transient as exc:
            attempts = retrying.statistics.get("attempt_number", self.retry.attempts)
            message = (
                f"exchange {self.key} did not answer after {attempts} attempt(s): "
                f"{type(exc).__name__}: {_short(exc)}"
            )
            if not self._open():
                raise ExchangeUnavailable(message) from exc
            retry_at = self.clock() + self.breaker.cool_off  # it opened on this failure
            raise ExchangeUnavailable(
                f"{message}; circuit breaker open until {retry_at.isoformat()}",
                retry_at=retry_at,
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _open(self) -> bool:
        from tradesweep.notify.breaker import BreakerState

        return self.breaker.state(self.key) is BreakerState.OPEN

    def _attempt(
        self, fn: Callable[..., Any], args: tuple[Any, ...], transient: Any, ccxt: Any
    ) -> Any:
        retry_at = self.breaker.allow(self.key)
        if retry_at is not None:
            raise ExchangeUnavailable(
                f"circuit breaker for exchange {self.key} is open until {retry_at.isoformat()}",
                retry_at=retry_at,
            )
        try:
            result = fn(*args)
        except transient:
            self.breaker.record_failure(self.key)
            raise
        except ccxt.BadSymbol:
            self.breaker.record_success(self.key)  # it answered
            raise UnknownSymbol(
                f"exchange {self.key} does not list symbol {self.symbol!r}",
                fix="use the exchange's unified symbol, e.g. BTC/USDT",
                field="symbol",
                exchange=self.key,
            ) from None
        except BaseException:
            self.breaker.release(self.key)
            raise
        self.breaker.record_success(self.key)
        return result

    def _log_retry(self, state: Any) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "exchange %s: attempt %d failed (%s: %s), retrying in %.2fs",
            self.key,
            state.attempt_number,
            type(exc).__name__,
            _short(exc),
            state.next_action.sleep if state.next_action else 0.0,
        )


def utc_ms(value: Any) -> int:
    """Epoch milliseconds of an instant (see :func:`utc_timestamp`)."""
    return int(utc_timestamp(value).value // 1_000_000)


def _log_transition(host: str, old: BreakerState, new: BreakerState) -> None:
    log.warning("exchange %s: circuit breaker %s -> %s", host, old.value, new.value)


def _short(exc: BaseException | None, limit: int = 200) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
