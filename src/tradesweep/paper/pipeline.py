"""One paper session in process: candle source -> strategy engine -> executor -> portfolio.

:func:`run_paper` replays a :class:`~tradesweep.specs.BacktestSpec`'s dataset window through the
pipeline and returns its trades, equity, orders and fills; built on the same strategy, settings
and engine step as :func:`~tradesweep.services.backtest.run_backtest_spec`, it gives the same
trades and equity curve. With a broker it publishes each candle (``candles.{symbol}``),
signal, order, fill and snapshot on its stream as it happens.

The replay reads one candle ahead so that it knows the final candle, which it hands to the
executor as the last bar (``close_at_end``). A replay starts from the window's first bar with
no warm-up history, as the backtest does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from tradesweep.data import DatasetRegistry
from tradesweep.engine import EngineSettings
from tradesweep.paper.bus import FILLS, ORDERS, SIGNALS, SNAPSHOTS, Broker, candles_stream
from tradesweep.paper.candles import Candle
from tradesweep.paper.engine import Signal, StrategyEngine
from tradesweep.paper.executor import Executor, Fill, Order, PaperExecutor, Trade
from tradesweep.paper.portfolio import Portfolio, Snapshot
from tradesweep.paper.sources import ReplaySource
from tradesweep.services.backtest import effective_settings
from tradesweep.specs import BacktestSpec
from tradesweep.strategies import get_strategy

TRADE_FIELDS = (
    "entry_time",
    "exit_time",
    "side",
    "units",
    "entry_price",
    "exit_price",
    "pnl",
    "fees",
    "exit_reason",
)


@dataclass
class PaperRun:
    """What one replayed session did."""

    session: str
    settings: EngineSettings | None = None
    orders: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)

    def trades_frame(self) -> pd.DataFrame:
        """Closed trades; ``side`` is ``long``/``short`` as in the backtest's frame."""
        rows = [
            {
                "entry_time": t.entry_time,
                "exit_time": t.exit_time,
                "side": "long" if t.side > 0 else "short",
                "units": t.units,
                "entry_price": t.entry_price,
                "exit_price": t.exit_price,
                "pnl": t.pnl,
                "fees": t.fees,
                "exit_reason": t.exit_reason,
            }
            for t in self.trades
        ]
        return pd.DataFrame(rows, columns=list(TRADE_FIELDS))

    def equity_series(self) -> pd.Series:
        return pd.Series(
            [s.equity for s in self.snapshots],
            index=pd.DatetimeIndex([s.time for s in self.snapshots]),
            name="equity",
        )


def _with_last(candles: Iterator[Candle]) -> Iterator[tuple[Candle, bool]]:
    previous: Candle | None = None
    for candle in candles:
        if previous is not None:
            yield previous, False
        previous = candle
    if previous is not None:
        yield previous, True


def run_paper(
    spec: BacktestSpec,
    registry: DatasetRegistry,
    broker: Broker | None = None,
    *,
    session: str | None = None,
    leg: str = "leg0",
    speed: float = 0,
) -> PaperRun:
    """Replay ``spec``'s data window through the pipeline as one leg on one account, as fast
    as possible (``speed=0``) or at ``speed`` candles per second."""
    strategy = get_strategy(
        spec.strategy,
        spec.params,
        plugins=list(spec.plugins) or None,
        defaults=spec.defaults_override(),
        indicator_convention=spec.indicator_convention,
    )
    settings = effective_settings(spec, strategy)
    session_id = session or f"paper-{spec.spec_id[:12]}"
    source = ReplaySource(
        registry,
        spec.data,
        start=spec.start,
        end=spec.end,
        timeframe=spec.timeframe,
        speed=speed,
    )
    engine = StrategyEngine(leg, strategy)
    executor: Executor = PaperExecutor(
        session_id, leg, settings, indicator_convention=spec.indicator_convention
    )
    portfolio = Portfolio(settings.cash, {leg: settings.cash})
    run = PaperRun(session_id, settings)
    for candle, last in _with_last(iter(source)):
        if broker is not None:
            broker.publish(candles_stream(candle.symbol), candle.to_dict())
        signal = engine.on_candle(candle)
        if signal is None:
            continue
        _publish(broker, SIGNALS, signal, session_id)
        done = executor.execute(candle, signal, last=last)
        for fill in done.fills:
            portfolio.apply(fill)
        snapshot = portfolio.mark(leg, candle.time, candle.close)
        run.orders += done.orders
        run.fills += done.fills
        run.trades += done.trades
        run.snapshots.append(snapshot)
        if broker is not None:
            for order in done.orders:
                broker.publish(ORDERS, order.to_dict())
            for fill in done.fills:
                broker.publish(FILLS, {"session": session_id, **fill.to_dict()})
            broker.publish(SNAPSHOTS, {"session": session_id, **snapshot.to_dict()})
    return run


def _publish(broker: Broker | None, stream: str, signal: Signal, session: str) -> None:
    if broker is not None and signal.flags:
        broker.publish(stream, {"session": session, **signal.to_dict()})
