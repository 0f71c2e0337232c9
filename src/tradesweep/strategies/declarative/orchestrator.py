"""The backtest orchestrator's strategy files, read as tradesweep declarative documents.

An orchestrator file names signals and matches their outputs instead of writing conditions::

    name: ma_crossover_strategy
    dependencies: {signals: [core.signals.ma_crossover]}
    parameters: {ma_fast_period: 10, ma_slow_period: 30}
    entry:
      when: [{signal: ma_crossover, outputs: {crossover_type: golden_cross}}]
      action: buy
      size: 0.02
    exit:
      signal_exit:
        when: [{signal: ma_crossover, outputs: {crossover_type: death_cross}}]
        action: close_all
      stop_loss: {type: percentage, value: 0.02}
      take_profit: {type: percentage, value: 0.04}
    risk: {max_drawdown: 0.15, max_position_size: 0.1}

:func:`translate` turns it into the tradesweep document with the same rule (see
``docs/strategies.md``): each signal becomes two moving averages (``ma_crossover``: SMA,
periods 20/50 unless ``signal_config`` or the parameters ``ma_fast_period`` /
``ma_slow_period`` say otherwise; ``ema_crossover``: EMA 12/26, or ``fast_period`` /
``slow_period``), exposed as the parameters ``fast`` and ``slow``; ``golden_cross`` is
``crosses_above: [fast, slow]``, ``death_cross`` ``crosses_below``; the ``when`` items must
all hold; ``action: buy`` trades the long side, ``sell`` the short side; ``entry.size`` (capped
by ``risk.max_position_size``) is the fraction of equity, ``exit.stop_loss`` /
``exit.take_profit`` (``type: percentage``) the stop and target, ``risk.max_drawdown`` the
drawdown limit. ``parameters.NAME`` in a value means that parameter's value.

What would change the trades and has no tradesweep equivalent is refused, naming the field
(``signal_strength`` filters, ``min_separation``, ``confirmation_bars`` above 1 (it looks at
later bars), ``max_holding_period``, ``filters``, daily loss limits, more than one position);
descriptive sections (``type``, ``version``, ``author``, ``metrics``, ``backtest``, ``live``,
``dependencies.indicators``) are read and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tradesweep.errors import StrategyError
from tradesweep.strategies.config import field_error, unknown_key_error

TOP_KEYS = (
    "name",
    "type",
    "version",
    "author",
    "description",
    "dependencies",
    "parameters",
    "signal_config",
    "entry",
    "exit",
    "risk",
    "metrics",
    "backtest",
    "live",
)
ENTRY_KEYS = ("when", "action", "size")
EXIT_KEYS = ("signal_exit", "stop_loss", "take_profit")
SIGNAL_EXIT_KEYS = ("when", "action")
RISK_KEYS = ("max_drawdown", "max_position_size", "max_positions", "stop_loss", "take_profit",
             "position_size")  # fmt: skip
ACTIONS = {"buy": "long", "sell": "short"}
CROSSINGS = {"golden_cross": "crosses_above", "death_cross": "crosses_below"}
PERIOD_RANGE = (2, 1000)


@dataclass(frozen=True)
class Signal:
    """One of the orchestrator's crossover signals: its moving average and default periods."""

    average: str  # the declarative indicator type
    window_arg: str
    fast_id: str  # the orchestrator's names of its two indicators
    slow_id: str
    fast: int
    slow: int
    fast_param: tuple[str, ...]  # orchestrator parameters that set the periods
    slow_param: tuple[str, ...]


SIGNALS: dict[str, Signal] = {
    "ma_crossover": Signal(
        "sma", "window", "ma_fast", "ma_slow", 20, 50,
        ("ma_fast_period", "fast_period"), ("ma_slow_period", "slow_period"),
    ),
    "ema_crossover": Signal(
        "ema", "span", "ema_fast", "ema_slow", 12, 26,
        ("ema_fast_period", "fast_period"), ("ema_slow_period", "slow_period"),
    ),
}  # fmt: skip


def is_orchestrator(data: Any) -> bool:
    """Whether a parsed YAML document is in the orchestrator's format (an ``entry`` section
    at the top, no ``rules``)."""
    return isinstance(data, Mapping) and "rules" not in data and "entry" in data


def translate(data: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """The tradesweep declarative document with the same rule (module docstring)."""
    return _Translator(data, source).document()


class _Translator:
    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.params = data.get("parameters") or {}
        if not isinstance(self.params, Mapping):
            raise self.error("parameters", "must be a mapping of name to value", "e.g. {a: 1}")

    def error(self, where: str, message: str, fix: str) -> StrategyError:
        return field_error(message, where=where, source=self.source, fix=fix)

    def keys(self, value: Any, where: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where, "must be a mapping", f"give {', '.join(allowed)}")
        for key in value:
            if key not in allowed:
                raise unknown_key_error(
                    key, allowed, where=f"{where}.{key}" if where else key, source=self.source
                )
        return value

    def value(self, raw: Any, where: str) -> Any:
        """A number, or ``parameters.NAME`` resolved to that parameter's value."""
        if isinstance(raw, str) and raw.startswith("parameters."):
            name = raw.removeprefix("parameters.")
            if name not in self.params:
                known = ", ".join(map(str, self.params)) or "none"
                raise self.error(where, f"refers to unknown parameter '{name}'", f"known: {known}")
            return self.params[name]
        return raw

    # --- the document ---------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        data = self.keys(self.data, "", TOP_KEYS)
        entry = self.keys(data["entry"], "entry", ENTRY_KEYS)
        exit_ = self.keys(data.get("exit") or {}, "exit", EXIT_KEYS)
        risk = self.keys(data.get("risk") or {}, "risk", RISK_KEYS)
        self.dependencies(data.get("dependencies"))
        action = entry.get("action", "buy")
        if action not in ACTIONS:
            raise self.error("entry.action", f"is {action!r}", "give buy or sell")
        side = ACTIONS[action]
        used: list[str] = []
        entry_cond = self.when(entry.get("when"), "entry.when", used)
        rules: dict[str, Any] = {"entry": entry_cond}
        if exit_.get("signal_exit") is not None:
            signal_exit = self.keys(exit_["signal_exit"], "exit.signal_exit", SIGNAL_EXIT_KEYS)
            if signal_exit.get("action", "close_all") != "close_all":
                raise self.error(
                    "exit.signal_exit.action", f"is {signal_exit['action']!r}", "give close_all"
                )
            rules["exit"] = self.when(signal_exit.get("when"), "exit.signal_exit.when", used)
        out: dict[str, Any] = {
            "name": self.name(),
            "description": str(data.get("description") or ""),
            "parameters": {},
            "constraints": [],
            "indicators": {},
            "rules": {side: rules},
        }
        for signal in dict.fromkeys(used):
            self.add_signal(out, signal, len(set(used)) > 1)
        for key in ("stop_loss", "take_profit"):
            level = self.level(exit_.get(key), f"exit.{key}")
            if level is None and risk.get(key) is not None:
                level = self.value(risk[key], f"risk.{key}")
            if level is not None:
                out[key] = level
        size = self.size(entry, risk)
        if size is not None:
            out["position_size"] = size
        if risk.get("max_drawdown") is not None:
            out["risk"] = {"max_drawdown": self.value(risk["max_drawdown"], "risk.max_drawdown")}
        positions = risk.get("max_positions", self.params.get("max_positions", 1))
        if positions != 1:
            raise self.error(
                "risk.max_positions",
                f"is {positions!r}: tradesweep holds one position at a time",
                "give 1 or leave it out",
            )
        return out

    def name(self) -> str:
        raw = self.data.get("name")
        if not isinstance(raw, str) or not raw.strip():
            raise self.error("name", "is missing", "e.g. name: ma_crossover_strategy")
        name = re.sub(r"[^A-Za-z0-9_\-]+", "_", raw.strip()).strip("_")
        return name if name[:1].isalpha() else f"s_{name}"

    def dependencies(self, value: Any) -> None:
        if value is None:
            return
        deps = self.keys(value, "dependencies", ("indicators", "signals", "orders"))
        for item in deps.get("signals") or []:
            name = str(item).rsplit(".", 1)[-1]
            if name not in SIGNALS:
                raise self.error(
                    "dependencies.signals",
                    f"names signal '{item}', which tradesweep does not know",
                    f"known signals: {', '.join(SIGNALS)}",
                )

    def when(self, value: Any, where: str, used: list[str]) -> dict[str, Any]:
        if not isinstance(value, list) or not value:
            raise self.error(
                where,
                "must be a list of {signal, outputs}",
                "e.g. [{signal: ma_crossover, outputs: {crossover_type: golden_cross}}]",
            )
        conditions = []
        for i, item in enumerate(value):
            at = f"{where}[{i}]"
            item = self.keys(item, at, ("signal", "outputs"))
            signal = item.get("signal")
            if signal not in SIGNALS:
                raise self.error(
                    f"{at}.signal", f"is {signal!r}", f"known signals: {', '.join(SIGNALS)}"
                )
            outputs = self.keys(item.get("outputs") or {}, f"{at}.outputs", ("crossover_type",))
            crossing = outputs.get("crossover_type")
            if crossing not in CROSSINGS:
                raise self.error(
                    f"{at}.outputs.crossover_type",
                    f"is {crossing!r}",
                    f"give {' or '.join(CROSSINGS)}",
                )
            used.append(signal)
            fast, slow = self.ids(signal)
            conditions.append({CROSSINGS[crossing]: [fast, slow]})
        return conditions[0] if len(conditions) == 1 else {"all": conditions}

    @staticmethod
    def ids(signal: str) -> tuple[str, str]:
        """The indicator ids of a signal's two averages."""
        return f"{signal}_fast", f"{signal}_slow"

    def add_signal(self, out: dict[str, Any], signal: str, several: bool) -> None:
        spec = SIGNALS[signal]
        fast, slow = self.periods(signal, spec)
        fast_name, slow_name = (f"{signal}_fast", f"{signal}_slow") if several else ("fast", "slow")
        low, high = PERIOD_RANGE
        out["parameters"][fast_name] = {"type": "int", "default": fast, "min": low, "max": high}
        out["parameters"][slow_name] = {"type": "int", "default": slow, "min": low, "max": high}
        out["constraints"].append(f"{fast_name} < {slow_name}")
        fast_id, slow_id = self.ids(signal)
        out["indicators"][fast_id] = {"type": spec.average, spec.window_arg: f"${fast_name}"}
        out["indicators"][slow_id] = {"type": spec.average, spec.window_arg: f"${slow_name}"}

    def periods(self, signal: str, spec: Signal) -> tuple[int, int]:
        fast = next((self.params[n] for n in spec.fast_param if n in self.params), spec.fast)
        slow = next((self.params[n] for n in spec.slow_param if n in self.params), spec.slow)
        config = (self.data.get("signal_config") or {}).get(signal)
        if config is not None:
            where = f"signal_config.{signal}"
            config = self.keys(config, where, ("required_indicators", "parameters"))
            for i, ind in enumerate(config.get("required_indicators") or []):
                at = f"{where}.required_indicators[{i}]"
                ind = self.keys(ind, at, ("name", "type", "params", "parameters"))
                if ind.get("type", spec.average) != spec.average:
                    raise self.error(
                        f"{at}.type", f"is {ind.get('type')!r}", f"{signal} uses {spec.average}"
                    )
                args = ind.get("params") or ind.get("parameters") or {}
                source = args.get("source", "close")
                if source != "close":
                    raise self.error(f"{at}.params.source", f"is {source!r}", "give close")
                period = self.value(args.get("period"), f"{at}.params.period")
                if ind.get("name") == spec.fast_id and period is not None:
                    fast = period
                elif ind.get("name") == spec.slow_id and period is not None:
                    slow = period
            self.signal_parameters(config.get("parameters") or {}, f"{where}.parameters")
        for period, which in ((fast, "fast"), (slow, "slow")):
            if not isinstance(period, int) or isinstance(period, bool):
                raise self.error(
                    f"signal_config.{signal}", f"gives a {which} period of {period!r}",
                    "give a whole number of bars",
                )  # fmt: skip
        return fast, slow

    def signal_parameters(self, params: Mapping[str, Any], where: str) -> None:
        for key, value in params.items():
            if key == "confirmation_bars" and value == 1:
                continue
            if key == "min_separation" and value == 0:
                continue
            raise self.error(
                f"{where}.{key}",
                f"is {value!r}, which tradesweep cannot apply (its crossovers have no "
                "separation filter and never look at later bars)",
                "remove it, or give min_separation: 0 / confirmation_bars: 1",
            )

    def level(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            return self.value(value, where)
        body = self.keys(value, where, ("type", "value"))
        if body.get("type", "percentage") != "percentage":
            raise self.error(
                f"{where}.type", f"is {body['type']!r}", "only type: percentage is supported"
            )
        if "value" not in body:
            raise self.error(where, "is missing 'value'", "e.g. {type: percentage, value: 0.02}")
        return self.value(body["value"], f"{where}.value")

    def size(self, entry: Mapping[str, Any], risk: Mapping[str, Any]) -> Any:
        size = entry.get("size", risk.get("position_size"))
        size = None if size is None else self.value(size, "entry.size")
        cap = risk.get("max_position_size")
        if cap is None:
            return size
        cap = self.value(cap, "risk.max_position_size")
        numbers = all(isinstance(v, int | float) for v in (size if size is not None else 1, cap))
        if not numbers:
            raise self.error("risk.max_position_size", f"is {cap!r}", "give a fraction, e.g. 0.1")
        return cap if size is None else min(size, cap)
