"""What one backtest returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradesweep.engine.enums import EXIT_REASON_NAMES, Side, side_name
from tradesweep.engine.settings import EngineSettings

TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "side",
    "units",
    "entry_price",
    "exit_price",
    "pnl",
    "pnl_pct",
    "fees",
    "bars_held",
    "exit_reason",
    "entry_idx",
    "exit_idx",
)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """One backtest: per-bar equity and position, closed trades, and a few counters.

    ``equity[i]`` is cash plus the position marked at bar ``i``'s close, after everything that
    happened on that bar; ``position[i]`` the signed units held then (> 0 long, < 0 short).
    ``trades`` holds closed round trips as ``trade_dt`` records; a position left open by
    ``close_at_end=False`` is not a trade (see ``position[-1]``).
    """

    index: pd.DatetimeIndex
    equity: np.ndarray
    position: np.ndarray
    trades: np.ndarray
    stop_and_target_same_bar: int
    total_fees: float
    settings: EngineSettings

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1])

    def equity_series(self) -> pd.Series:
        return pd.Series(self.equity, index=self.index, name="equity")

    def position_series(self) -> pd.Series:
        return pd.Series(self.position, index=self.index, name="position")

    def trades_frame(self) -> pd.DataFrame:
        """Closed trades, one row each, with timestamps and readable side / exit reason."""
        t = self.trades
        sides = np.where(t["side"] == Side.long, side_name(Side.long), side_name(Side.short))
        reasons = np.asarray(EXIT_REASON_NAMES)[t["exit_reason"]]
        return pd.DataFrame(
            {
                "entry_time": self.index[t["entry_idx"]],
                "exit_time": self.index[t["exit_idx"]],
                "side": sides,
                "units": t["units"],
                "entry_price": t["entry_price"],
                "exit_price": t["exit_price"],
                "pnl": t["pnl"],
                "pnl_pct": t["pnl_pct"],
                "fees": t["fees"],
                "bars_held": t["bars_held"],
                "exit_reason": reasons,
                "entry_idx": t["entry_idx"],
                "exit_idx": t["exit_idx"],
            },
            columns=list(TRADE_COLUMNS),
        )
