"""A paper session of one or more legs on one account.

A :class:`Leg` is a :class:`~tradesweep.specs.BacktestSpec` (symbol, strategy, parameters,
settings, window) and an ``allocation``: the fraction of the account's cash the leg trades
with. The rules:

- The account's cash is ``legs[0].spec.settings.cash``; every leg's ``settings.cash`` names the
  account's cash, so a leg whose ``settings.cash`` differs from the first leg's is refused.
- Leg ``i`` (named ``leg{i}``) trades on its own cash: ``account cash x allocation``. Its
  executor runs with ``settings.cash`` replaced by that amount, so its percent sizing, stops
  and drawdown guard see the leg's equity, not the account's, and its trades and equity curve
  equal a separate backtest of its spec with that cash.
- Each allocation is above 0 and they sum to at most 1; the rest of the cash stays unallocated
  in the account (it never trades). Anything else is refused with a
  :class:`PaperSessionError` naming the leg.
- The legs' candles (each leg its own symbol, timeframe and window) are merged in time order;
  candles at the same time go in leg order. Each leg knows its own final candle
  (``close_at_end``).
- The :class:`~tradesweep.paper.portfolio.Portfolio` books every fill on the account and on
  its leg. A leg's snapshot is taken on each of its candles; the account's once per candle time
  (after every leg with a candle at that time), each leg at its last close, so the account's
  equity is the unallocated cash plus the legs' equities, each carried forward where the leg
  has no candle (a leg before its first candle counts its starting cash).

With a broker, every message carries ``leg_index`` (the leg's position in ``legs``; ``None``
for the account's snapshots, which carry ``leg: "account"``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tradesweep.data import DatasetRegistry
from tradesweep.errors import TradesweepError
from tradesweep.paper.bus import FILLS, ORDERS, SIGNALS, SNAPSHOTS, Broker, candles_stream
from tradesweep.paper.candles import Candle
from tradesweep.paper.engine import StrategyEngine
from tradesweep.paper.executor import Executor, PaperExecutor
from tradesweep.paper.pipeline import PaperRun, _with_last
from tradesweep.paper.portfolio import Portfolio, Snapshot
from tradesweep.paper.sources import ReplaySource
from tradesweep.services.backtest import effective_settings
from tradesweep.specs import BacktestSpec
from tradesweep.strategies import get_strategy

ACCOUNT = "account"


class PaperSessionError(TradesweepError):
    """A session whose legs cannot share the account as given."""

    code = "invalid_session"


@dataclass(frozen=True)
class Leg:
    """One leg of a session: ``spec`` traded on ``allocation`` of the account's cash."""

    spec: BacktestSpec
    allocation: float = 1.0


@dataclass
class SessionRun:
    """What a replayed multi-leg session did: each leg's run (its orders, fills, trades and
    its own snapshots) and the account's snapshots, one per candle time."""

    session: str
    cash: float
    legs: list[PaperRun] = field(default_factory=list)
    account: list[Snapshot] = field(default_factory=list)

    def equity_series(self) -> pd.Series:
        """The account's equity per candle time."""
        return pd.Series(
            [s.equity for s in self.account],
            index=pd.DatetimeIndex([s.time for s in self.account]),
            name="equity",
        )


def _check_legs(legs: Sequence[Leg]) -> float:
    """The account's cash, once the legs are known to fit on it."""
    if not legs:
        raise PaperSessionError(
            "a paper session needs at least one leg", fix="pass one Leg per strategy to run"
        )
    cash = legs[0].spec.settings.cash
    total = 0.0
    for i, leg in enumerate(legs):
        name = f"leg{i}"
        alloc = leg.allocation
        if not isinstance(alloc, int | float) or not math.isfinite(alloc) or alloc <= 0:
            raise PaperSessionError(
                f"{name} ({leg.spec.data} {leg.spec.strategy}) has allocation {alloc!r}; "
                "it must be a fraction of the account's cash above 0",
                fix="give the leg an allocation in (0, 1], e.g. 0.5",
                field="allocation",
                leg=i,
            )
        if leg.spec.settings.cash != cash:
            raise PaperSessionError(
                f"{name} ({leg.spec.data} {leg.spec.strategy}) has settings.cash "
                f"{leg.spec.settings.cash}, but the account's cash is {cash} (leg0's)",
                fix="give every leg the account's cash in settings.cash; a leg's own share "
                "is set by its allocation",
                field="settings.cash",
                leg=i,
            )
        total += alloc
        if total > 1.0 + 1e-12:
            raise PaperSessionError(
                f"the allocations sum to {total:g} by {name} ({leg.spec.data} "
                f"{leg.spec.strategy}); together they must be at most 1",
                fix="lower the allocations so that they sum to 1 or less",
                field="allocation",
                leg=i,
            )
    return float(cash)


def run_session(
    legs: Sequence[Leg],
    registry: DatasetRegistry,
    broker: Broker | None = None,
    session_id: str | None = None,
) -> SessionRun:
    """Replay every leg's data window through the pipeline on one account (the module's rules)."""
    cash = _check_legs(legs)
    session = session_id or "paper-" + "-".join(leg.spec.spec_id[:8] for leg in legs)
    names = [f"leg{i}" for i in range(len(legs))]
    engines: list[StrategyEngine] = []
    executors: list[Executor] = []
    streams: list[Iterator[tuple[pd.Timestamp, int, Candle, bool]]] = []
    for i, leg in enumerate(legs):
        spec = leg.spec
        strategy = get_strategy(
            spec.strategy,
            spec.params,
            plugins=list(spec.plugins) or None,
            defaults=spec.defaults_override(),
            indicator_convention=spec.indicator_convention,
        )
        settings = effective_settings(spec, strategy).replace(cash=cash * leg.allocation)
        engines.append(StrategyEngine(names[i], strategy))
        executors.append(
            PaperExecutor(
                session, names[i], settings, indicator_convention=spec.indicator_convention
            )
        )
        source = ReplaySource(
            registry, spec.data, start=spec.start, end=spec.end, timeframe=spec.timeframe
        )
        streams.append(_tagged(i, iter(source)))
    portfolio = Portfolio(cash, {f"leg{i}": cash * leg.allocation for i, leg in enumerate(legs)})
    run = SessionRun(session, cash, [PaperRun(session) for _ in legs])
    pending: pd.Timestamp | None = None
    for time, i, candle, last in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        if pending is not None and time > pending:
            _account(run, portfolio, pending, broker)
        pending = time
        tag = {"session": session, "leg_index": i}
        if broker is not None:
            broker.publish(candles_stream(candle.symbol), {**candle.to_dict(), **tag})
        signal = engines[i].on_candle(candle)
        if signal is None:
            continue
        if broker is not None and signal.flags:
            broker.publish(SIGNALS, {**tag, **signal.to_dict()})
        done = executors[i].execute(candle, signal, last=last)
        for fill in done.fills:
            portfolio.apply(fill)
        snapshot = portfolio.mark_leg(names[i], candle.time, candle.close)
        leg_run = run.legs[i]
        leg_run.orders += done.orders
        leg_run.fills += done.fills
        leg_run.trades += done.trades
        leg_run.snapshots.append(snapshot)
        if broker is not None:
            for order in done.orders:
                broker.publish(ORDERS, {**order.to_dict(), **tag})
            for fill in done.fills:
                broker.publish(FILLS, {**tag, **fill.to_dict()})
            broker.publish(SNAPSHOTS, {**tag, "leg": names[i], **snapshot.to_dict()})
    if pending is not None:
        _account(run, portfolio, pending, broker)
    return run


def _tagged(i: int, candles: Iterator[Candle]) -> Iterator[tuple[pd.Timestamp, int, Candle, bool]]:
    for candle, last in _with_last(candles):
        yield candle.time, i, candle, last


def _account(
    run: SessionRun, portfolio: Portfolio, time: pd.Timestamp, broker: Broker | None
) -> None:
    snapshot = portfolio.snapshot(time)
    run.account.append(snapshot)
    if broker is not None:
        message: dict[str, Any] = {"session": run.session, "leg_index": None, "leg": ACCOUNT}
        broker.publish(SNAPSHOTS, {**message, **snapshot.to_dict()})
