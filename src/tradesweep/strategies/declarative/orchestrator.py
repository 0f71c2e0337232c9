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
from collections.abc import Iterable, Mapping
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
    """Reads one orchestrator document; every value it reads is type-checked where it is read,
    so a malformed file is a StrategyError naming the file and the dotted key, never a
    TypeError from deep inside."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.params = self.keys(data.get("parameters") or {}, "parameters", ())

    def error(self, where: str, message: str, fix: str) -> StrategyError:
        return field_error(message, where=where, source=self.source, fix=fix)

    def keys(self, value: Any, where: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        """``value`` as a mapping whose keys are all in ``allowed`` (``()``: any key)."""
        if not isinstance(value, Mapping):
            example = f"give {', '.join(allowed)}" if allowed else "e.g. {name: value}"
            raise self.error(where, f"must be a mapping, got {value!r}", example)
        for key in value if allowed else ():
            if key not in allowed:
                raise unknown_key_error(
                    key, allowed, where=f"{where}.{key}" if where else key, source=self.source
                )
        return value

    def items(self, value: Any, where: str, example: str) -> list[Any]:
        """``value`` as a list (``None``: an empty one)."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(where, f"must be a list, got {value!r}", example)
        return value

    def choice(self, value: Any, where: str, choices: Iterable[str], fix: str = "") -> str:
        """``value`` as one of the names in ``choices``."""
        choices = list(choices)
        if not isinstance(value, str) or value not in choices:
            raise self.error(
                where,
                f"must be one of {', '.join(choices)}, got {value!r}",
                fix or f"give {' or '.join(choices)}",
            )
        return value

    def number(self, raw: Any, where: str, fix: str) -> float:
        """A number, or ``parameters.NAME`` resolved to that parameter's (numeric) value."""
        value = raw
        if isinstance(raw, str) and raw.startswith("parameters."):
            name = raw.removeprefix("parameters.")
            if name not in self.params:
                known = ", ".join(map(str, self.params)) or "none"
                raise self.error(where, f"refers to unknown parameter '{name}'", f"known: {known}")
            value = self.params[name]
        if not isinstance(value, int | float) or isinstance(value, bool):
            got = f"{raw!r}" if value is raw else f"{raw!r} = {value!r}"
            raise self.error(where, f"must be a number or parameters.NAME, got {got}", fix)
        return value

    # --- the document ---------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        data = self.keys(self.data, "", TOP_KEYS)
        entry = self.keys(data["entry"], "entry", ENTRY_KEYS)
        exit_ = self.keys(data.get("exit") or {}, "exit", EXIT_KEYS)
        risk = self.keys(data.get("risk") or {}, "risk", RISK_KEYS)
        self.dependencies(data.get("dependencies"))
        side = ACTIONS[self.choice(entry.get("action", "buy"), "entry.action", ACTIONS)]
        used: list[str] = []
        entry_cond = self.when(entry.get("when"), "entry.when", used)
        rules: dict[str, Any] = {"entry": entry_cond}
        if exit_.get("signal_exit") is not None:
            signal_exit = self.keys(exit_["signal_exit"], "exit.signal_exit", SIGNAL_EXIT_KEYS)
            where = "exit.signal_exit.action"
            self.choice(signal_exit.get("action", "close_all"), where, ("close_all",))
            rules["exit"] = self.when(signal_exit.get("when"), "exit.signal_exit.when", used)
        out: dict[str, Any] = {
            "name": self.name(),
            "description": self.description(),
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
                level = self.number(risk[key], f"risk.{key}", "give a fraction, e.g. 0.02")
            if level is not None:
                out[key] = level
        size = self.size(entry, risk)
        if size is not None:
            out["position_size"] = size
        if risk.get("max_drawdown") is not None:
            drawdown = self.number(risk["max_drawdown"], "risk.max_drawdown", "e.g. 0.15")
            out["risk"] = {"max_drawdown": drawdown}
        where = "risk.max_positions" if "max_positions" in risk else "parameters.max_positions"
        positions = risk.get("max_positions", self.params.get("max_positions", 1))
        if positions != 1:
            raise self.error(
                where,
                f"must be 1: tradesweep holds one position at a time, got {positions!r}",
                "give 1 or leave it out",
            )
        return out

    def name(self) -> str:
        raw = self.data.get("name")
        if not isinstance(raw, str) or not raw.strip():
            raise self.error(
                "name", f"must be a non-empty text, got {raw!r}", "e.g. name: ma_crossover_strategy"
            )
        name = re.sub(r"[^A-Za-z0-9_\-]+", "_", raw.strip()).strip("_")
        return name if name[:1].isalpha() else f"s_{name}"

    def description(self) -> str:
        raw = self.data.get("description")
        if isinstance(raw, Mapping | list):
            raise self.error("description", f"must be a text, got {raw!r}", "e.g. description: ...")
        return "" if raw is None else str(raw)

    def dependencies(self, value: Any) -> None:
        if value is None:
            return
        deps = self.keys(value, "dependencies", ("indicators", "signals", "orders"))
        example = "e.g. signals: [core.signals.ma_crossover]"
        for i, item in enumerate(self.items(deps.get("signals"), "dependencies.signals", example)):
            if not isinstance(item, str):
                at = f"dependencies.signals[{i}]"
                raise self.error(at, f"must be a signal name, got {item!r}", example)
            name = item.rsplit(".", 1)[-1]
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
                f"must be a non-empty list of {{signal, outputs}}, got {value!r}",
                "e.g. [{signal: ma_crossover, outputs: {crossover_type: golden_cross}}]",
            )
        conditions = []
        for i, item in enumerate(value):
            at = f"{where}[{i}]"
            item = self.keys(item, at, ("signal", "outputs"))
            signal = self.choice(item.get("signal"), f"{at}.signal", SIGNALS)
            outputs = self.keys(item.get("outputs") or {}, f"{at}.outputs", ("crossover_type",))
            crossing = self.choice(
                outputs.get("crossover_type"), f"{at}.outputs.crossover_type", CROSSINGS
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
        """The fast and slow periods: the defaults, overridden by the parameters, overridden
        by ``signal_config``; each checked to be a whole number where it is given."""
        periods = {"fast": ("", spec.fast), "slow": ("", spec.slow)}
        for which, names in (("fast", spec.fast_param), ("slow", spec.slow_param)):
            name = next((n for n in names if n in self.params), None)
            if name is not None:
                periods[which] = (f"parameters.{name}", self.params[name])
        configs = self.keys(self.data.get("signal_config") or {}, "signal_config", ())
        if configs.get(signal) is not None:
            where = f"signal_config.{signal}"
            config = self.keys(configs[signal], where, ("required_indicators", "parameters"))
            example = f"e.g. [{{name: {spec.fast_id}, params: {{period: 10}}}}]"
            indicators = config.get("required_indicators")
            for i, ind in enumerate(
                self.items(indicators, f"{where}.required_indicators", example)
            ):
                at = f"{where}.required_indicators[{i}]"
                ind = self.keys(ind, at, ("name", "type", "params", "parameters"))
                self.choice(ind.get("type", spec.average), f"{at}.type", (spec.average,),
                            f"{signal} uses {spec.average}")  # fmt: skip
                key = "params" if "params" in ind else "parameters"
                args = self.keys(ind.get(key) or {}, f"{at}.{key}", ())
                self.choice(args.get("source", "close"), f"{at}.{key}.source", ("close",))
                name = ind.get("name")
                which = "fast" if name == spec.fast_id else "slow" if name == spec.slow_id else ""
                if which and args.get("period") is not None:
                    periods[which] = (f"{at}.{key}.period", args["period"])
            self.signal_parameters(config.get("parameters") or {}, f"{where}.parameters")
        out = []
        for which in ("fast", "slow"):
            where, raw = periods[which]
            period = self.number(raw, where, "give a whole number of bars") if where else raw
            if not isinstance(period, int):
                raise self.error(where, f"must be a whole number of bars, got {raw!r}", "e.g. 10")
            out.append(period)
        return out[0], out[1]

    def signal_parameters(self, params: Any, where: str) -> None:
        for key, value in self.keys(params, where, ()).items():
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

    def level(self, value: Any, where: str) -> float | None:
        fix = "give a fraction, e.g. {type: percentage, value: 0.02}"
        if value is None:
            return None
        if not isinstance(value, Mapping):
            return self.number(value, where, fix)
        body = self.keys(value, where, ("type", "value"))
        self.choice(body.get("type", "percentage"), f"{where}.type", ("percentage",),
                    "only type: percentage is supported")  # fmt: skip
        if "value" not in body:
            raise self.error(where, "is missing 'value'", "e.g. {type: percentage, value: 0.02}")
        return self.number(body["value"], f"{where}.value", fix)

    def size(self, entry: Mapping[str, Any], risk: Mapping[str, Any]) -> float | None:
        where = "entry.size" if "size" in entry else "risk.position_size"
        raw = entry.get("size", risk.get("position_size"))
        fix = "give a fraction of equity, e.g. 0.1"
        size = None if raw is None else self.number(raw, where, fix)
        if risk.get("max_position_size") is None:
            return size
        cap = self.number(risk["max_position_size"], "risk.max_position_size", fix)
        return cap if size is None else min(size, cap)
