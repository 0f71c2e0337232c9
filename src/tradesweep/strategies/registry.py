"""Find a strategy by name or path.

``name_or_path`` may be

* a built-in name (``sma_crossover``), with the user's default overrides applied;
* a declarative file (``*.yaml`` / ``*.yml``);
* a plugin (``*.py`` file, a directory, or ``file.py:ClassName``);
* the ``name`` of a strategy in one of the ``plugins`` given (None: none).

``defaults`` is a :class:`~tradesweep.strategies.defaults.DefaultsOverride`, a path to a
defaults file or directory, or None (no override). Nothing here is cached or global, and the
environment is never read: each call reads what it is given. The CLI, ``serve`` and
``worker`` read ``TRADESWEEP_STRATEGY_PLUGINS`` and ``TRADESWEEP_STRATEGY_DEFAULTS``
(:mod:`tradesweep.environment`) and pass them here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tradesweep.errors import StrategyError, did_you_mean
from tradesweep.indicators.convention import DEFAULT_CONVENTION, IndicatorConvention
from tradesweep.strategies.base import Strategy
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.strategies.declarative import load_declarative
from tradesweep.strategies.defaults import DefaultsOverride, resolve_defaults
from tradesweep.strategies.plugins import is_plugin_spec, load_plugin

PluginPaths = Sequence[str | Path] | None
Defaults = DefaultsOverride | str | Path | None


def resolve_plugins(plugins: PluginPaths) -> list[str | Path]:
    """The plugin paths given (None: none)."""
    return [] if plugins is None else list(plugins)


def strategy_classes(
    *, plugins: PluginPaths = None, defaults: Defaults = None
) -> dict[str, type[Strategy]]:
    """Every strategy known by name: the built-ins (in library order), then the plugins'."""
    override = resolve_defaults(defaults)
    found = {name: override.apply(cls) for name, cls in BUILTINS.items()}
    for spec in resolve_plugins(plugins):
        for cls in load_plugin(spec):
            if cls.name in found:
                raise StrategyError(
                    f"plugin {spec}: strategy name '{cls.name}' is already taken"
                    + (" by a built-in" if cls.name in BUILTINS else ""),
                    fix="rename the plugin strategy",
                    file=str(spec),
                )
            found[cls.name] = cls
    return found


def list_strategies(*, plugins: PluginPaths = None) -> list[str]:
    """Names of the built-ins (library order), then of the strategies in ``plugins``."""
    return list(strategy_classes(plugins=plugins, defaults=DefaultsOverride()))


def strategy_class(
    name_or_path: str | Path, *, plugins: PluginPaths = None, defaults: Defaults = None
) -> type[Strategy]:
    """The class for a built-in name, a declarative .yaml file or a plugin .py file / dir."""
    text = str(name_or_path)
    if text in BUILTINS:
        return resolve_defaults(defaults).apply(BUILTINS[text])
    path = Path(text)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise StrategyError(
                f"declarative strategy file {path} does not exist",
                fix="check the path",
                file=text,
            )
        return load_declarative(path)
    if is_plugin_spec(text):
        classes = load_plugin(text)
        if len(classes) > 1:
            names = ", ".join(f"{text}:{cls.__name__}" for cls in classes)
            raise StrategyError(
                f"{text} holds {len(classes)} strategies",
                fix=f"pick one: {names}",
                file=text,
            )
        return classes[0]
    if os.sep in text or "/" in text:
        raise StrategyError(
            f"strategy path {text} is neither a .yaml file, a .py file nor a directory",
            fix="give a built-in name, a declarative .yaml file or a plugin .py file",
            file=text,
        )
    known = strategy_classes(plugins=plugins, defaults=DefaultsOverride())
    if text in known:
        return known[text]
    hint = did_you_mean(text, known)
    raise StrategyError(
        f"unknown strategy '{text}'",
        fix=f"{hint}built-in strategies: {', '.join(BUILTINS)}; or give a .yaml/.py path",
        strategy=text,
    )


def get_strategy(
    name_or_path: str | Path,
    params: Mapping[str, Any] | None = None,
    *,
    plugins: PluginPaths = None,
    defaults: Defaults = None,
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
) -> Strategy:
    """An instance bound to ``params`` (validated: unknown names, types, bounds, cross rules)
    computing its indicators in ``indicator_convention``."""
    cls = strategy_class(name_or_path, plugins=plugins, defaults=defaults)
    return instantiate(cls, params, indicator_convention)


def instantiate(
    cls: type[Strategy],
    params: Mapping[str, Any] | None,
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
) -> Strategy:
    """``cls(params)`` in ``indicator_convention``. The keyword is passed only when it is not
    the default, so a plugin whose ``__init__`` predates it keeps working in the default."""
    if indicator_convention == DEFAULT_CONVENTION:
        return cls(params)
    return cls(params, indicator_convention=indicator_convention)
