"""Metric keys, their display labels, the objectives a sweep can rank by, and why a metric
can be null. Keys are data (snake_case, units in the name); labels are for people only."""

from __future__ import annotations

from types import MappingProxyType

KEYS: tuple[str, ...] = (
    "start",
    "end",
    "bars",
    "periods_per_year",
    "final_equity",
    "total_return_pct",
    "buy_and_hold_return_pct",
    "annualized_return_pct",
    "annualized_volatility_pct",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "max_drawdown_pct",
    "max_drawdown_duration_days",
    "avg_drawdown_pct",
    "total_trades",
    "win_rate_pct",
    "profit_factor",
    "expectancy_pct",
    "avg_trade_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "avg_win",
    "avg_loss",
    "largest_win",
    "largest_loss",
    "avg_trade_duration_days",
    "avg_trade_duration",
    "trades_per_month",
    "exposure_pct",
    "total_fees",
    "stop_and_target_same_bar",
)
"""Every key of :func:`~tradesweep.metrics.compute_metrics`, in display order."""

OBJECTIVES: tuple[str, ...] = (
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "total_return_pct",
    "profit_factor",
    "win_rate_pct",
    "score",
)
"""What a sweep can rank by; all are higher-is-better. ``score`` is the sweep's composite."""

LABELS = MappingProxyType(
    {
        "start": "Start",
        "end": "End",
        "bars": "Bars",
        "periods_per_year": "Bars per year",
        "final_equity": "Final equity",
        "total_return_pct": "Total return [%]",
        "buy_and_hold_return_pct": "Buy & hold return [%]",
        "annualized_return_pct": "Annualized return (CAGR) [%]",
        "annualized_volatility_pct": "Annualized volatility [%]",
        "sharpe_ratio": "Sharpe ratio",
        "sortino_ratio": "Sortino ratio",
        "calmar_ratio": "Calmar ratio",
        "max_drawdown_pct": "Max drawdown [%]",
        "max_drawdown_duration_days": "Max drawdown duration [days]",
        "avg_drawdown_pct": "Avg drawdown [%]",
        "total_trades": "Trades",
        "win_rate_pct": "Win rate [%]",
        "profit_factor": "Profit factor",
        "expectancy_pct": "Expectancy [%]",
        "avg_trade_pct": "Avg trade (geometric) [%]",
        "best_trade_pct": "Best trade [%]",
        "worst_trade_pct": "Worst trade [%]",
        "avg_win": "Avg win [cash]",
        "avg_loss": "Avg loss [cash]",
        "largest_win": "Largest win [cash]",
        "largest_loss": "Largest loss [cash]",
        "avg_trade_duration_days": "Avg trade duration [days]",
        "avg_trade_duration": "Avg trade duration",
        "trades_per_month": "Trades per month",
        "exposure_pct": "Exposure [%]",
        "total_fees": "Total fees [cash]",
        "stop_and_target_same_bar": "Stop and target on the same bar",
        "score": "Score",
    }
)
"""Display label of each key in :data:`KEYS` and :data:`OBJECTIVES`."""

_NO_TRADES = "no trades"
_SHORT = "fewer than 2 bars"
_RUIN = "equity reached zero or below before the last bar, so later returns are undefined"
_NO_PPY = "bars per year unknown (one bar and no periods_per_year given)"

NULL_REASONS = MappingProxyType(
    {
        "periods_per_year": f"{_NO_PPY}",
        "buy_and_hold_return_pct": "the first close is zero, negative or not finite",
        "annualized_return_pct": f"{_NO_PPY}; or the extrapolation overflows a float",
        "annualized_volatility_pct": f"{_SHORT}; {_RUIN}; {_NO_PPY}",
        "sharpe_ratio": f"{_SHORT}; {_RUIN}; zero variance of returns (0/0 or unbounded)",
        "sortino_ratio": f"{_SHORT}; {_RUIN}; no bar with a negative return (unbounded)",
        "calmar_ratio": "no drawdown (unbounded); or annualized_return_pct is null",
        "win_rate_pct": _NO_TRADES,
        "profit_factor": f"{_NO_TRADES}; or no losing trade (zero gross loss: unbounded)",
        "expectancy_pct": _NO_TRADES,
        "avg_trade_pct": f"{_NO_TRADES}; or a trade lost 100 % or more (no geometric mean)",
        "best_trade_pct": _NO_TRADES,
        "worst_trade_pct": _NO_TRADES,
        "avg_win": "no winning trade (pnl > 0)",
        "avg_loss": "no losing trade (pnl < 0)",
        "largest_win": "no winning trade (pnl > 0)",
        "largest_loss": "no losing trade (pnl < 0)",
        "avg_trade_duration_days": _NO_TRADES,
        "avg_trade_duration": _NO_TRADES,
        "trades_per_month": "no time elapsed between the first and the last bar (one bar)",
    }
)
"""Why each nullable key can be ``null``. Keys not listed are never null."""
