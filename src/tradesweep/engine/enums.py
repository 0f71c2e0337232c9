"""Small int enums and the structured record dtypes the engine kernel writes.

Records go straight to DataFrames (``pd.DataFrame(trades)``) and bulk inserts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class _ExitReason(NamedTuple):
    signal: int = 0
    stop_loss: int = 1
    take_profit: int = 2
    trailing_stop: int = 3
    max_drawdown: int = 4
    end: int = 5


ExitReason = _ExitReason()
EXIT_REASON_NAMES: tuple[str, ...] = _ExitReason._fields


class _Side(NamedTuple):
    long: int = 1
    short: int = -1


Side = _Side()


def side_name(side: int) -> str:
    """``"long"`` or ``"short"``: how tables, CSVs and the API name a :data:`Side` value."""
    return "long" if side == Side.long else "short"


trade_dt = np.dtype(
    [
        ("entry_idx", np.int64),  # bar index of the entry fill
        ("exit_idx", np.int64),  # bar index of the exit fill
        ("side", np.int64),  # Side.long or Side.short
        ("units", np.float64),  # always positive
        ("entry_price", np.float64),  # fill price, slippage included
        ("exit_price", np.float64),  # fill price, slippage included
        ("pnl", np.float64),  # cash result of the round trip, all fees included
        ("pnl_pct", np.float64),  # pnl / (units * entry_price + entry fees) * 100
        ("fees", np.float64),  # entry + exit fees of this trade
        ("bars_held", np.int64),  # exit_idx - entry_idx
        ("exit_reason", np.int64),  # an ExitReason value
    ],
    align=True,
)


class _FillMode(NamedTuple):
    next_open: int = 0  # a signal on bar t's close fills at bar t+1's open
    close: int = 1  # a signal on bar t's close fills at bar t's close


FillMode = _FillMode()


class _Direction(NamedTuple):
    long_only: int = 0
    short_only: int = 1
    long_short: int = 2


Direction = _Direction()


class _SizeType(NamedTuple):
    percent: int = 0  # a fraction of equity
    cash: int = 1  # a fixed amount of cash
    units: int = 2  # a fixed number of units


SizeType = _SizeType()
