"""Strategies: the contract, the built-in library, user plugins and declarative YAML files.

Usage::

    from tradesweep.strategies import get_strategy

    strategy = get_strategy("sma_crossover", {"fast": 20, "slow": 50})
    signals = strategy.signals(bars)  # vectorised, whole frame
    flags = strategy.stream(bars)  # bar by bar; equal to signals.flags()

See docs/strategies.md.
"""

from tradesweep.strategies.base import Candle, Param, SignalFlag, Signals, Strategy, iter_candles
from tradesweep.strategies.config import ConfiguredStrategy, StrategyConfig, load_config
from tradesweep.strategies.declarative import DeclarativeStrategy, load_declarative
from tradesweep.strategies.defaults import (
    DEFAULTS_ENV,
    DefaultsOverride,
    load_defaults_override,
)
from tradesweep.strategies.execution import Execution, apply_execution, execution_of
from tradesweep.strategies.lookahead import LookaheadError, assert_no_lookahead
from tradesweep.strategies.plugins import PLUGINS_ENV, load_plugin
from tradesweep.strategies.registry import (
    get_strategy,
    list_strategies,
    strategy_class,
    strategy_classes,
)

__all__ = [
    "DEFAULTS_ENV",
    "PLUGINS_ENV",
    "Candle",
    "ConfiguredStrategy",
    "DeclarativeStrategy",
    "DefaultsOverride",
    "Execution",
    "LookaheadError",
    "Param",
    "SignalFlag",
    "Signals",
    "Strategy",
    "StrategyConfig",
    "apply_execution",
    "assert_no_lookahead",
    "execution_of",
    "get_strategy",
    "iter_candles",
    "list_strategies",
    "load_config",
    "load_declarative",
    "load_defaults_override",
    "load_plugin",
    "strategy_class",
    "strategy_classes",
]
