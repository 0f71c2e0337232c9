"""How a strategy wants its trades managed: stops, targets, size and a drawdown limit.

Declarative strategies carry an :class:`Execution` built from their file; the field names are
those of the engine's ``EngineSettings`` so the engine can overlay them on its own settings.
A field left ``None`` means "use the engine's setting".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from tradesweep.strategies.base import Strategy

if TYPE_CHECKING:
    from tradesweep.engine import EngineSettings

# Each stop has a fraction form and an ATR form; setting one explicitly blocks the other.
_PARTNERS = {
    "stop_loss": "stop_loss_atr",
    "take_profit": "take_profit_atr",
    "trailing_stop": "trailing_stop_atr",
}


@dataclass(frozen=True)
class Execution:
    """All fractions: ``stop_loss=0.05`` closes a position 5% against its entry price,
    ``size=0.5`` puts half the equity in each position, ``max_drawdown=0.2`` stops trading
    once equity is 20% below its peak."""

    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    size: float | None = None
    max_drawdown: float | None = None

    def settings(self) -> dict[str, float]:
        """The fields that are set, keyed by their EngineSettings name."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def execution_of(strategy: Strategy) -> Execution:
    """A strategy's execution settings; strategies without any give an empty Execution."""
    execution = getattr(strategy, "execution", None)
    return execution if isinstance(execution, Execution) else Execution()


def apply_execution(
    settings: EngineSettings, strategy: Strategy, explicit: Collection[str]
) -> EngineSettings:
    """``settings`` with the strategy's execution settings filling every field the user did
    not set: a field in ``explicit`` (or its fraction/ATR partner) keeps the user's value, and
    ``size`` applies only to percent-of-equity sizing. The one rule shared by backtests and
    sweeps (docs/strategies.md)."""
    chosen: dict[str, Any] = {}
    for name, value in execution_of(strategy).settings().items():
        if name in explicit or _PARTNERS.get(name) in explicit:
            continue
        if name == "size" and ("size_type" in explicit or settings.size_type != "percent"):
            continue
        chosen[name] = value
    return settings.replace(**chosen) if chosen else settings
