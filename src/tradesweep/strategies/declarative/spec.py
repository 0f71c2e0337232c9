"""Parse a declarative strategy file into a frozen :class:`DeclarativeSpec`.

Every problem is a :class:`~tradesweep.errors.StrategyError` that names the file, the field
path (``rules.long.entry.all[1].crosses_above``), what is allowed there and, for unknown keys,
names and indicator types, a did-you-mean. See ``docs/strategies.md`` for the format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tradesweep.engine.settings import SETTING_RANGES, SIZE_RANGES, SettingRange
from tradesweep.errors import StrategyError, did_you_mean
from tradesweep.strategies.base import Param
from tradesweep.strategies.config import field_error, parse_schema, unknown_key_error
from tradesweep.strategies.declarative.indicators import KINDS, PRICE_FIELDS, SOURCE_FIELDS

TOP_KEYS = (
    "name",
    "description",
    "parameters",
    "constraints",
    "indicators",
    "rules",
    "stop_loss",
    "take_profit",
    "trailing_stop",
    "position_size",
    "risk",
)
SIDES = ("long", "short")
SIDE_KEYS = ("entry", "exit")
RISK_KEYS = ("max_drawdown",)
CROSSES = ("crosses_above", "crosses_below")
COMPARISONS = (">", "<", ">=", "<=")
COMBINATORS = ("all", "any")
CONDITION_KEYS = (*COMBINATORS, *CROSSES, *COMPARISONS)
CONSTRAINT_OPS = ("<=", ">=", "!=", "<", ">")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")

EXECUTION_FIELDS: dict[str, str] = {
    "stop_loss": "stop_loss",
    "take_profit": "take_profit",
    "trailing_stop": "trailing_stop",
    "position_size": "size",
    "risk.max_drawdown": "max_drawdown",
}
"""Execution fields of a file (the key is the YAML path) and the engine setting each fills."""
EXECUTION_BOUNDS: dict[str, SettingRange] = {
    key: SIZE_RANGES["percent"] if setting == "size" else SETTING_RANGES[setting]
    for key, setting in EXECUTION_FIELDS.items()
}
"""The values each execution field may take: the engine's own bounds of its setting (a
position size is a fraction of equity), so a file that loads is one ``backtest`` runs."""


@dataclass(frozen=True)
class ParamRef:
    """``$name``: the value of a strategy parameter."""

    name: str


Number = int | float
Value = Number | ParamRef | str  # str only for an indicator's ``source``


@dataclass(frozen=True)
class Operand:
    """One side of a condition: a price field, an indicator output, a number or ``$param``."""

    kind: str  # "price" | "indicator" | "number" | "param"
    name: str = ""  # price field, indicator id or parameter name
    output: int = 0  # index into the indicator's outputs
    value: float = 0.0

    @property
    def key(self) -> str:
        if self.kind == "number":
            return f"#{self.value!r}"
        if self.kind == "param":
            return f"${self.name}"
        if self.kind == "indicator":
            return f"{self.name}[{self.output}]"
        return self.name


@dataclass(frozen=True)
class Compare:
    op: str  # one of CROSSES or COMPARISONS
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Combine:
    op: str  # "all" | "any"
    items: tuple[Condition, ...]


Condition = Compare | Combine


@dataclass(frozen=True)
class SideRules:
    entry: Condition
    exit: Condition | None


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    type: str
    args: tuple[tuple[str, Value], ...]
    output: int | None  # the output a bare reference to the id means
    shift: Value


@dataclass(frozen=True)
class Constraint:
    left: Number | ParamRef
    op: str
    right: Number | ParamRef
    text: str


@dataclass(frozen=True)
class DeclarativeSpec:
    name: str
    description: str
    schema: tuple[Param, ...]
    constraints: tuple[Constraint, ...]
    indicators: tuple[IndicatorSpec, ...]
    long: SideRules | None
    short: SideRules | None
    execution: tuple[tuple[str, Number | ParamRef], ...]  # EXECUTION_BOUNDS key -> value
    source: str


def parse_declarative(data: Any, *, source: str) -> DeclarativeSpec:
    return _Parser(source).parse(data)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.schema: dict[str, Param] = {}
        self.indicators: dict[str, IndicatorSpec] = {}

    # --- helpers --------------------------------------------------------------------------

    def error(self, where: str, message: str, fix: str) -> StrategyError:
        return field_error(message, where=where, source=self.source, fix=fix)

    def mapping(
        self, value: Any, where: str, allowed: tuple[str, ...] | None, example: str
    ) -> dict:
        if not isinstance(value, Mapping):
            raise self.error(where, f"must be a mapping, got {_show(value)}", f"e.g. {example}")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    raise unknown_key_error(
                        key, allowed, where=_join(where, key), source=self.source
                    )
        return dict(value)

    def param_ref(self, text: str, where: str) -> ParamRef:
        name = text[1:]
        if name not in self.schema:
            hint = did_you_mean(name, self.schema, prefix="$")
            known = ", ".join(f"${p}" for p in self.schema) or "none: add a 'parameters:' section"
            raise self.error(
                where, f"refers to unknown parameter '{text}'", f"{hint}parameters: {known}"
            )
        return ParamRef(name)

    def number(
        self,
        value: Any,
        where: str,
        *,
        integer: bool,
        low: float,
        high: float,
        low_open: bool,
        high_open: bool = False,
    ) -> Number | ParamRef:
        """A literal number or ``$param`` whose whole range lies in ``[low, high]`` (an open
        end excluded)."""
        kind = "an integer" if integer else "a number"
        bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        admits = SettingRange(low, high, low_open, high_open).contains

        if isinstance(value, str) and value.startswith("$"):
            ref = self.param_ref(value, where)
            param = self.schema[ref.name]
            if integer and param.type is not int:
                raise self.error(
                    where,
                    f"needs {kind} but parameter '{value}' is a {param.type.__name__}",
                    f"declare '{ref.name}' with type: int",
                )
            if not (admits(param.min) and admits(param.max)):
                raise self.error(
                    where,
                    f"must lie in {bounds} but parameter '{value}' ranges over "
                    f"[{param.min}, {param.max}]",
                    f"narrow the min/max of parameter '{ref.name}'",
                )
            return ref
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and (not integer or value == int(value))
        if not ok:
            raise self.error(
                where,
                f"must be {kind} or a $parameter, got {_show(value)}",
                f"give {kind} in {bounds}",
            )
        if not admits(value):
            raise self.error(where, f"is {value}, outside {bounds}", f"give {kind} in {bounds}")
        return int(value) if integer else float(value)

    # --- sections -------------------------------------------------------------------------

    def parse(self, data: Any) -> DeclarativeSpec:
        data = self.mapping(data, "(top level)", TOP_KEYS, "name: my_strategy")
        name = data.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.error(
                "name",
                f"must be a name of letters, digits, '_' or '-', got {_show(name)}",
                "e.g. name: golden_cross",
            )
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.error("description", "must be text", "quote it")
        schema = parse_schema(
            data.get("parameters"), where="parameters", source=self.source, strategy=name
        )
        self.schema = {p.name: p for p in schema}
        constraints = self.constraints(data.get("constraints"))
        self.indicators = self.indicator_section(data.get("indicators"))
        if "rules" not in data:
            raise self.error("rules", "is missing", "add rules: {long: {entry: ..., exit: ...}}")
        rules = self.mapping(data["rules"], "rules", SIDES, "{long: {entry: ..., exit: ...}}")
        if not rules:
            raise self.error("rules", "is empty", "give rules for 'long', 'short' or both")
        sides = {side: self.side(rules[side], f"rules.{side}") for side in SIDES if side in rules}
        return DeclarativeSpec(
            name=name,
            description=" ".join(description.split()),
            schema=schema,
            constraints=constraints,
            indicators=tuple(self.indicators.values()),
            long=sides.get("long"),
            short=sides.get("short"),
            execution=self.execution(data),
            source=self.source,
        )

    def constraints(self, value: Any) -> tuple[Constraint, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(
                "constraints",
                "must be a list of rules such as 'fast < slow'",
                "e.g. constraints: ['fast < slow']",
            )
        out = []
        pattern = re.compile(
            r"^\s*(\S+?)\s*(" + "|".join(map(re.escape, CONSTRAINT_OPS)) + r")\s*(\S+)\s*$"
        )
        for i, text in enumerate(value):
            where = f"constraints[{i}]"
            match = pattern.match(text) if isinstance(text, str) else None
            if match is None:
                raise self.error(
                    where,
                    f"must read 'a OP b' with OP one of {' '.join(CONSTRAINT_OPS)}, "
                    f"got {_show(text)}",
                    "e.g. 'fast < slow'",
                )
            left, op, right = match.groups()
            out.append(
                Constraint(
                    self.constraint_side(left, where),
                    op,
                    self.constraint_side(right, where),
                    text.strip(),
                )
            )
        return tuple(out)

    def constraint_side(self, text: str, where: str) -> Number | ParamRef:
        name = text[1:] if text.startswith("$") else text
        if name in self.schema:
            return ParamRef(name)
        try:
            return float(text)
        except ValueError:
            return self.param_ref("$" + name, where)

    def indicator_section(self, value: Any) -> dict[str, IndicatorSpec]:
        if value is None:
            return {}
        section = self.mapping(value, "indicators", None, "{fast_ma: {type: sma, window: 50}}")
        out = {}
        for ident, body in section.items():
            where = f"indicators.{ident}"
            if not isinstance(ident, str) or not ident.isidentifier():
                raise self.error(
                    where, "is not a valid indicator id", "use letters, digits and '_'"
                )
            if ident in PRICE_FIELDS:
                raise self.error(
                    where, f"uses the name of the price field '{ident}'", "rename the indicator"
                )
            out[ident] = self.indicator(ident, body, where)
        return out

    def indicator(self, ident: str, body: Any, where: str) -> IndicatorSpec:
        body = self.mapping(body, where, None, "{type: sma, window: 50}")
        if "type" not in body:
            raise self.error(where, "is missing 'type'", f"allowed types: {', '.join(KINDS)}")
        type_name = body["type"]
        if type_name not in KINDS:
            raise self.error(
                f"{where}.type",
                f"is {_show(type_name)}, not a known indicator",
                f"{did_you_mean(type_name, KINDS)}allowed: {', '.join(KINDS)}",
            )
        kind = KINDS[type_name]
        allowed = ("type", "output", "shift", *kind.args)
        for key in body:
            if key not in allowed:
                raise unknown_key_error(key, allowed, where=f"{where}.{key}", source=self.source)
        args: list[tuple[str, Value]] = []
        for arg_name, arg in kind.args.items():
            arg_where = f"{where}.{arg_name}"
            if arg_name not in body:
                if arg.default is None:
                    raise self.error(
                        where, f"is missing '{arg_name}'", f"a {type_name} needs {arg_name}"
                    )
                args.append((arg_name, arg.default))
                continue
            raw = body[arg_name]
            if arg.kind == "source":
                if raw not in SOURCE_FIELDS:
                    raise self.error(
                        arg_where, f"is {_show(raw)}", f"allowed: {', '.join(SOURCE_FIELDS)}"
                    )
                args.append((arg_name, raw))
                continue
            args.append(
                (
                    arg_name,
                    self.number(
                        raw,
                        arg_where,
                        integer=arg.kind == "int",
                        low=arg.low,
                        high=arg.high,
                        low_open=arg.low_open,
                    ),
                )
            )
        output = None
        if "output" in body:
            if body["output"] not in kind.outputs:
                raise self.error(
                    f"{where}.output",
                    f"is {_show(body['output'])}",
                    f"outputs of {type_name}: {', '.join(kind.outputs)}",
                )
            output = kind.outputs.index(body["output"])
        elif len(kind.outputs) == 1:
            output = 0
        shift = self.number(
            body.get("shift", 0),
            f"{where}.shift",
            integer=True,
            low=0,
            high=100_000,
            low_open=False,
        )
        return IndicatorSpec(ident, type_name, tuple(args), output, shift)

    def side(self, value: Any, where: str) -> SideRules:
        body = self.mapping(value, where, SIDE_KEYS, "{entry: {crosses_above: [fast_ma, slow_ma]}}")
        if "entry" not in body:
            raise self.error(where, "is missing 'entry'", "every side needs an entry condition")
        entry = self.condition(body["entry"], f"{where}.entry")
        exit_ = (
            self.condition(body["exit"], f"{where}.exit") if body.get("exit") is not None else None
        )
        return SideRules(entry, exit_)

    def condition(self, value: Any, where: str) -> Condition:
        example = "{crosses_above: [fast_ma, slow_ma]} or {all: [...]}"
        if not isinstance(value, Mapping) or len(value) != 1:
            raise self.error(
                where,
                f"must be a mapping with exactly one of {', '.join(CONDITION_KEYS)}, "
                f"got {_show(value)}",
                f"e.g. {example}",
            )
        ((key, body),) = value.items()
        if key not in CONDITION_KEYS:
            raise unknown_key_error(
                key, CONDITION_KEYS, where=_join(where, key), source=self.source
            )
        here = _join(where, key)
        if key in COMBINATORS:
            if not isinstance(body, list) or not body:
                raise self.error(
                    here,
                    "must be a non-empty list of conditions",
                    f"e.g. {key}: [{{'>': [close, fast_ma]}}, ...]",
                )
            return Combine(
                key, tuple(self.condition(item, f"{here}[{i}]") for i, item in enumerate(body))
            )
        if not isinstance(body, list) or len(body) != 2:
            raise self.error(
                here,
                f"must be a list of two operands, got {_show(body)}",
                f"e.g. {key}: [close, slow_ma]",
            )
        left = self.operand(body[0], f"{here}[0]")
        right = self.operand(body[1], f"{here}[1]")
        if left.kind in ("number", "param") and right.kind in ("number", "param"):
            raise self.error(
                here, "compares two constants", "compare a price field or an indicator"
            )
        return Compare(key, left, right)

    def operand(self, value: Any, where: str) -> Operand:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise self.error(where, "must be finite", "give a number")
            return Operand("number", value=float(value))
        if not isinstance(value, str):
            raise self.error(where, f"is {_show(value)}", self.operand_help())
        if value.startswith("$"):
            return Operand("param", name=self.param_ref(value, where).name)
        if value in PRICE_FIELDS:
            return Operand("price", name=value)
        ident, _, output_name = value.partition(".")
        if ident not in self.indicators:
            choices = [*PRICE_FIELDS, *self.indicators]
            hint = did_you_mean(ident, choices)
            raise self.error(where, f"refers to unknown '{value}'", hint + self.operand_help())
        spec = self.indicators[ident]
        outputs = KINDS[spec.type].outputs
        if output_name:
            if output_name not in outputs:
                raise self.error(
                    where,
                    f"names output '{output_name}' of {spec.type} '{ident}'",
                    f"outputs: {', '.join(f'{ident}.{o}' for o in outputs)}",
                )
            return Operand("indicator", name=ident, output=outputs.index(output_name))
        if spec.output is None:
            raise self.error(
                where,
                f"refers to {spec.type} '{ident}', which has several outputs",
                f"write one of {', '.join(f'{ident}.{o}' for o in outputs)}, "
                "or set 'output:' on the indicator",
            )
        return Operand("indicator", name=ident, output=spec.output)

    def operand_help(self) -> str:
        ids = ", ".join(self.indicators) or "(none defined)"
        return (
            f"an operand is a price field ({', '.join(PRICE_FIELDS)}), an indicator id ({ids}) "
            "or 'id.output', a number or a $parameter"
        )

    def execution(self, data: dict) -> tuple[tuple[str, Number | ParamRef], ...]:
        values: dict[str, Any] = {
            k: data[k]
            for k in ("stop_loss", "take_profit", "trailing_stop", "position_size")
            if data.get(k) is not None
        }
        if data.get("risk") is not None:
            risk = self.mapping(data["risk"], "risk", RISK_KEYS, "{max_drawdown: 0.25}")
            values.update({f"risk.{k}": v for k, v in risk.items() if v is not None})
        out = []
        for key, raw in values.items():
            low, high, low_open, high_open = EXECUTION_BOUNDS[key]
            number = self.number(
                raw, key, integer=False, low=low, high=high, low_open=low_open, high_open=high_open
            )
            out.append((key, number))
        return tuple(out)


def _join(where: str, key: Any) -> str:
    if where in ("", "(top level)"):
        return str(key)
    return f"{where}.{key}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
