"""Engine-setting axes: risk and sizing settings swept next to a strategy's parameters.

``stop_loss``, ``stop_loss_atr``, ``take_profit``, ``take_profit_atr``, ``trailing_stop``,
``trailing_stop_atr``, ``size`` and ``max_drawdown`` (:data:`SETTING_AXES`) may be given in a
sweep's ``ranges`` like any parameter. Each value is checked by
:class:`~tradesweep.engine.EngineSettings`' own rules (its bounds, the ``size`` bounds of the
``size_type``, and the exclusive pairs such as ``stop_loss`` / ``stop_loss_atr``) laid over the
sweep's settings. A strategy parameter of the same name wins: the name is then the strategy's.
Each combination runs with the sweep's settings and its own axis values; the rows name those
values next to the strategy parameters (``params`` in JSON, one column each in the CSV).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tradesweep.engine.settings import EngineSettings
from tradesweep.errors import ParameterError, SettingsError, did_you_mean

SETTING_AXES: tuple[str, ...] = (
    "stop_loss",
    "stop_loss_atr",
    "take_profit",
    "take_profit_atr",
    "trailing_stop",
    "trailing_stop_atr",
    "size",
    "max_drawdown",
)
"""Engine settings a sweep may vary per combination, in the order their columns follow the
strategy parameters. The fused kernel reads them in this order (:func:`risk_matrix`)."""

ALIASES: dict[str, str] = {"atr_stop": "stop_loss_atr"}
"""Names users write for a setting axis -> the setting (said in the error's fix)."""

ATR_AXES = frozenset({"stop_loss_atr", "take_profit_atr", "trailing_stop_atr"})


def setting_axes(strategy_names: Sequence[str]) -> tuple[str, ...]:
    """The setting axes available next to a strategy with parameters ``strategy_names``."""
    taken = set(strategy_names)
    return tuple(name for name in SETTING_AXES if name not in taken)


def unknown_name_error(key: str, strategy: str, params: Sequence[str]) -> ParameterError:
    """The error for a range name that is neither a parameter nor a setting axis."""
    axes = setting_axes(params)
    alias = ALIASES.get(key)
    if alias is not None and alias in axes:
        hint = f"did you mean '{alias}'? "
    else:
        hint = did_you_mean(key, [*params, *axes])
    return ParameterError(
        f"unknown parameter '{key}' for strategy '{strategy}'",
        fix=f"{hint}valid parameters: {', '.join(params) or '(none)'}; "
        f"engine settings that can be swept: {', '.join(axes)}",
        strategy=strategy,
        parameter=key,
    )


def check_setting_value(base: EngineSettings, name: str, value: Any) -> float:
    """``value`` for setting ``name`` as ``EngineSettings`` checks it over ``base``; a
    :class:`ParameterError` naming the axis otherwise."""
    if isinstance(value, bool) or value is None:
        raise ParameterError(
            f"setting axis '{name}' must be numbers, got {value!r}",
            fix=f"give numbers for {name}, or leave it out of the ranges",
            parameter=name,
        )
    try:
        checked = base.replace(**{name: float(value)})
    except (SettingsError, TypeError, ValueError) as exc:
        message = getattr(exc, "message", str(exc))
        raise ParameterError(
            f"setting axis '{name}': {message}",
            fix=getattr(exc, "fix", None) or f"give values {name} accepts",
            parameter=name,
        ) from None
    return float(getattr(checked, name))


def check_setting_rows(base: EngineSettings, columns: Mapping[str, np.ndarray]) -> None:
    """The setting values of the combinations laid over ``base`` as one ``EngineSettings``, so
    exclusive pairs such as ``stop_loss`` with a base ``stop_loss_atr`` are refused, naming
    the setting.

    The first row stands for every row: each value was checked alone
    (:func:`check_setting_value`), and what is left to check, the exclusive pairs, depends on
    which settings are set, never on their values (an axis value is a number, never None)."""
    first = {name: np.asarray(values)[:1].tolist() for name, values in columns.items()}
    if not first or not all(first.values()):
        return
    try:
        base.replace(**{name: values[0] for name, values in first.items()})
    except SettingsError as exc:
        names = list(columns)
        raise ParameterError(
            f"setting axes {', '.join(names)}: {exc.message}",
            fix=exc.fix or "change the swept settings",
            parameter=str(exc.details.get("setting", names[0])),
        ) from None


def split_row(row: Mapping[str, Any], settings_names: Sequence[str]) -> tuple[dict, dict]:
    """``(strategy parameters, setting values)`` of one combination."""
    params = {k: v for k, v in row.items() if k not in settings_names}
    values = {k: row[k] for k in settings_names if k in row}
    return params, values


def risk_matrix(base: EngineSettings, columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """``(n, len(SETTING_AXES))`` float64: each combination's value of every setting axis,
    the swept ones from ``columns``, the others from ``base`` (None as NaN: off)."""
    out = np.empty((n, len(SETTING_AXES)))
    for j, name in enumerate(SETTING_AXES):
        if name in columns:
            out[:, j] = np.asarray(columns[name], dtype=np.float64)
        else:
            value = getattr(base, name)
            out[:, j] = np.nan if value is None else float(value)
    return out
