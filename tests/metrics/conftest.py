"""Factories for metrics tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from tradesweep.engine.enums import trade_dt

TradesFactory = Callable[..., np.ndarray]


@pytest.fixture
def make_trades() -> TradesFactory:
    """``make_trades(pnl=[...], pnl_pct=[...], entry_idx=[...], exit_idx=[...], fees=[...])``:
    a ``trade_dt`` array; fields left out are zero (indices default to 0..0)."""

    def make(**fields: Sequence[float]) -> np.ndarray:
        n = len(next(iter(fields.values()))) if fields else 0
        out = np.zeros(n, dtype=trade_dt)
        for name, values in fields.items():
            out[name] = values
        out["bars_held"] = out["exit_idx"] - out["entry_idx"]
        return out

    return make
