"""Statistics of the closed round trips in the engine's ``trade_dt`` records.

A trade is a win when ``pnl > 0`` and a loss when ``pnl < 0``; a trade with ``pnl == 0``
counts in ``total_trades`` and in the means, but is neither.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DAYS_PER_MONTH = 365.25 / 12  # 30.4375
"""The mean calendar month, used by ``trades_per_month``."""


def trade_stats(trades: Any, days: np.ndarray) -> dict[str, Any]:
    """Per-trade statistics; ``trades`` is a ``trade_dt`` array (or anything indexable by its
    field names, such as a DataFrame of it) and ``days`` the bar clock in days
    (:func:`~tradesweep.metrics.periods.day_clock`).

    With ``pnl``/``pnl_pct`` the per-trade cash and percent results (all fees included):

    * ``total_trades``: N
    * ``win_rate_pct``: ``count(pnl > 0) / N * 100``
    * ``profit_factor``: ``sum(pnl[pnl > 0]) / |sum(pnl[pnl < 0])|`` (cash, not percent)
    * ``expectancy_pct``: ``mean(pnl_pct)``, the arithmetic mean trade
    * ``avg_trade_pct``: ``(prod(1 + pnl_pct / 100) ** (1 / N) - 1) * 100``, the geometric
      mean trade (what one trade compounds to on average)
    * ``best_trade_pct`` / ``worst_trade_pct``: ``max(pnl_pct)`` / ``min(pnl_pct)``
    * ``avg_win`` / ``avg_loss``: ``mean(pnl[pnl > 0])`` / ``mean(pnl[pnl < 0])`` (cash; the
      loss is negative)
    * ``largest_win`` / ``largest_loss``: ``max(pnl[pnl > 0])`` / ``min(pnl[pnl < 0])`` (cash)
    * ``avg_trade_duration_days``: ``mean(time[exit_idx] - time[entry_idx])`` in days
    * ``avg_trade_duration``: the same as text (:func:`format_duration`)

    Undefined values are ``None``: every one with no trades; the win-side values with no
    winning trade; the loss-side values with no losing trade; ``profit_factor`` with no losing
    trade (zero gross loss: unbounded); ``avg_trade_pct`` when a trade lost 100 % or more.
    """
    pnl = _field(trades, "pnl")
    n = int(pnl.size)
    if n == 0:
        return {key: None for key in _TRADE_KEYS} | {"total_trades": 0}
    pnl_pct = _field(trades, "pnl_pct")
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_loss = float(-losses.sum())
    entry = np.asarray(trades["entry_idx"], dtype=np.int64)
    exit_ = np.asarray(trades["exit_idx"], dtype=np.int64)
    _check_bar_indices(entry, exit_, days.size)
    held = float(np.mean(days[exit_] - days[entry]))
    return {
        "total_trades": n,
        "win_rate_pct": wins.size / n * 100.0,
        "profit_factor": float(wins.sum()) / gross_loss if gross_loss > 0 else None,
        "expectancy_pct": float(pnl_pct.mean()),
        "avg_trade_pct": geometric_mean_pct(pnl_pct),
        "best_trade_pct": float(pnl_pct.max()),
        "worst_trade_pct": float(pnl_pct.min()),
        "avg_win": float(wins.mean()) if wins.size else None,
        "avg_loss": float(losses.mean()) if losses.size else None,
        "largest_win": float(wins.max()) if wins.size else None,
        "largest_loss": float(losses.min()) if losses.size else None,
        "avg_trade_duration_days": held,
        "avg_trade_duration": format_duration(held),
    }


_TRADE_KEYS = (
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
)


def geometric_mean_pct(pnl_pct: np.ndarray) -> float | None:
    """``(prod(1 + pnl_pct / 100) ** (1 / N) - 1) * 100`` via logs; ``None`` for no trades or
    when a growth factor ``1 + pnl_pct / 100`` is zero or negative (a trade lost everything)."""
    growth = 1.0 + np.asarray(pnl_pct, dtype=np.float64) / 100.0
    if growth.size == 0 or (growth <= 0).any():
        return None
    return float(np.expm1(np.log(growth).mean())) * 100.0


def trades_per_month(total_trades: int, elapsed_days: float) -> float | None:
    """``total_trades / (elapsed_days / 30.4375)`` with ``elapsed_days`` from the first to the
    last bar; ``None`` when no time elapsed (a one-bar series)."""
    if elapsed_days <= 0:
        return None
    return total_trades / (elapsed_days / DAYS_PER_MONTH)


def exposure_pct(position: np.ndarray) -> float:
    """``count(position != 0) / bars * 100``: the share of bars that end holding a position."""
    position = np.asarray(position, dtype=np.float64)
    return float(np.count_nonzero(position)) / position.size * 100.0 if position.size else 0.0


def format_duration(days: float) -> str:
    """A duration as short text: ``"5.2 days"`` from one day up, ``"7.0 hours"`` from one hour
    up, else ``"45.0 minutes"``."""
    if days >= 1:
        return f"{days:.1f} days"
    if days * 24 >= 1:
        return f"{days * 24:.1f} hours"
    return f"{days * 1440:.1f} minutes"


def _field(trades: Any, name: str) -> np.ndarray:
    return np.asarray(trades[name], dtype=np.float64)


def _check_bar_indices(entry: np.ndarray, exit_: np.ndarray, bars: int) -> None:
    bad = (entry < 0) | (exit_ < entry) | (exit_ >= bars)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"trade {i} has entry_idx={int(entry[i])}, exit_idx={int(exit_[i])}, which is not "
            f"0 <= entry_idx <= exit_idx < {bars} bars; pass the trades of this equity curve"
        )
