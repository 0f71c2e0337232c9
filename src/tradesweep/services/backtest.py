"""The backtest use-case: one frozen spec in, one report out.

The CLI, the API and the workers all run a backtest through :func:`run_backtest_spec`:

    spec = BacktestSpec.from_dict({"data": "GOOGL", "strategy": "sma_crossover",
                                   "params": {"fast": 10, "slow": 20},
                                   "settings": {"fees": 0.001}})
    report = run_backtest_spec(spec)
    report.metrics["sharpe_ratio"], report.to_json()

The spec (:class:`~tradesweep.specs.BacktestSpec`) says which engine settings are explicit;
:func:`effective_settings` fills the others from a declarative strategy's execution settings
(see :mod:`tradesweep.specs.backtest`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from tradesweep.data import DatasetRegistry, load, window
from tradesweep.engine import BacktestResult, EngineSettings, run_backtest
from tradesweep.metrics import drawdown_series, metrics_from_result, monthly_returns, to_json_safe
from tradesweep.specs import BacktestSpec, InsufficientBars, SpecError
from tradesweep.strategies import Signals, Strategy, apply_execution, get_strategy
from tradesweep.strategies.registry import PluginPaths


def effective_settings(spec: BacktestSpec, strategy: Strategy) -> EngineSettings:
    """The spec's settings with the strategy's execution settings filling the fields the spec
    does not set explicitly (the rules: :mod:`tradesweep.specs.backtest`)."""
    return apply_execution(spec.settings, strategy, spec.explicit_settings or frozenset())


def bars_needed(strategy: Strategy, settings: EngineSettings) -> int:
    """Bars for one trade: the warm-up, a bar whose close signals, and (with
    ``fill="next_open"``) the next bar to fill it."""
    return strategy.warmup_period() + (2 if settings.fill == "next_open" else 1)


@dataclass(frozen=True, eq=False)
class BacktestReport:
    """One backtest's inputs and outputs. ``settings`` are the effective engine settings (the
    spec's with the strategy's execution defaults applied); ``metrics`` is JSON-safe."""

    spec: BacktestSpec
    strategy: Strategy
    settings: EngineSettings
    bars: pd.DataFrame
    signals: Signals
    result: BacktestResult
    metrics: dict[str, Any]
    monthly_returns: pd.DataFrame

    @property
    def spec_id(self) -> str:
        return self.spec.spec_id

    @property
    def ticker(self) -> str:
        """The dataset's ticker when the bars carry one, else ``spec.data``."""
        return str(self.bars.attrs.get("ticker") or self.spec.data)

    def title(self) -> str:
        """``GOOGL · sma_crossover (fast=10, slow=20)``."""
        params = ", ".join(f"{k}={v}" for k, v in self.strategy.params.items())
        return f"{self.ticker} · {self.strategy.name}" + (f" ({params})" if params else "")

    def trades_frame(self) -> pd.DataFrame:
        return self.result.trades_frame()

    def trade_records(self) -> list[dict[str, Any]]:
        """Closed trades as JSON-safe dicts: ISO timestamps, side and exit reason names."""
        frame = self.trades_frame()
        return to_json_safe(frame.to_dict(orient="records"))

    def equity_frame(self) -> pd.DataFrame:
        """Per bar: ``equity``, ``position`` (signed units) and ``drawdown_pct`` (<= 0), indexed
        by ``timestamp``."""
        r = self.result
        dd = drawdown_series(r.equity, self.settings.cash) * 100.0
        frame = pd.DataFrame(
            {"equity": r.equity, "position": r.position, "drawdown_pct": dd + 0.0},
            index=pd.DatetimeIndex(r.index, name="timestamp"),
        )
        return frame

    def config(self) -> dict[str, Any]:
        """What ran: data, strategy, the validated params, the effective settings and the
        spec id; ``spec`` is the spec as given (``BacktestSpec.from_dict(config["spec"])``
        has the same ``spec_id``)."""
        return to_json_safe(
            {
                "spec_id": self.spec_id,
                "data": self.spec.data,
                "ticker": self.ticker,
                "strategy": self.spec.strategy,
                "strategy_name": self.strategy.name,
                "params": dict(self.strategy.params),
                "settings": self.settings.to_dict(),
                "periods_per_year": self.spec.periods_per_year,
                "risk_free_rate": self.spec.risk_free_rate,
                "warmup_period": self.strategy.warmup_period(),
                "spec": self.spec.to_dict(),
            }
        )

    def to_json(self) -> dict[str, Any]:
        """``{"metrics": ..., "trades": [...], "config": ...}``; passes
        ``json.dumps(..., allow_nan=False)``."""
        return {
            "metrics": self.metrics,
            "trades": self.trade_records(),
            "config": self.config(),
        }


def run_backtest_spec(
    spec: BacktestSpec,
    *,
    registry: DatasetRegistry | None = None,
    plugins: PluginPaths = None,
) -> BacktestReport:
    """Load the bars, build the strategy, check the warm-up, run the engine, compute metrics.

    ``registry`` resolves tickers (default: ``DatasetRegistry()``, the platform's data dir).
    ``plugins`` resolve a plugin strategy's name when the spec lists none (the CLI and workers
    pass the environment's, :mod:`tradesweep.environment`); the built-ins' default overrides
    are those the spec records (:meth:`BacktestSpec.with_defaults`), so equal specs give
    equal results.
    Raises a :class:`TradesweepError` for an unknown ticker or
    missing file, an unknown strategy, a bad parameter, an invalid setting, or too few bars.
    """
    bars = window_bars(load(spec.data, registry=registry), spec)
    strategy = get_strategy(
        spec.strategy,
        spec.params,
        plugins=list(spec.plugins) or plugins,
        defaults=spec.defaults_override(),
        indicator_convention=spec.indicator_convention,
    )
    settings = effective_settings(spec, strategy)
    _check_warmup(spec, strategy, settings, len(bars))
    signals = strategy.signals(bars)
    result = run_backtest(bars, signals, settings, indicator_convention=spec.indicator_convention)
    metrics = metrics_from_result(
        result,
        bars,
        periods_per_year=spec.periods_per_year,
        risk_free_rate=spec.risk_free_rate,
    )
    monthly = monthly_returns(result.index, result.equity, initial_cash=settings.cash)
    return BacktestReport(
        spec=spec,
        strategy=strategy,
        settings=settings,
        bars=bars,
        signals=signals,
        result=result,
        metrics=metrics,
        monthly_returns=monthly,
    )


def window_bars(bars: pd.DataFrame, spec: BacktestSpec) -> pd.DataFrame:
    """The bars between ``spec.start`` and ``spec.end`` (inclusive), resampled to
    ``spec.timeframe``; the bars unchanged when none is set (:func:`~tradesweep.data.window.
    window_bars`)."""
    return window.window_bars(
        bars, spec.data, spec.timeframe, spec.start, spec.end, error=SpecError
    )


def _check_warmup(
    spec: BacktestSpec, strategy: Strategy, settings: EngineSettings, n_bars: int
) -> None:
    needed = bars_needed(strategy, settings)
    if n_bars >= needed:
        return
    warmup = strategy.warmup_period()
    params = ", ".join(f"{k}={v}" for k, v in strategy.params.items())
    raise InsufficientBars(
        f"strategy '{strategy.name}' ({params}) has a warm-up of {warmup} bars and needs at "
        f"least {needed} bars to trade, but {spec.data} has {n_bars}",
        fix="use a longer data set or parameters with a shorter warm-up (smaller windows)",
        strategy=strategy.name,
        warmup_period=warmup,
        bars=n_bars,
        needed=needed,
    )
