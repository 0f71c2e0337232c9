"""Declarative strategies: a YAML file becomes a :class:`DeclarativeStrategy` subclass.

Both forms evaluate the same condition tree: vectorised over arrays of every operand, streaming
over the operand values of this bar and the previous one (what a cross needs). Operands are
compared exactly as in the built-ins, so the two forms agree bar for bar.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tradesweep.errors import ParameterError, StrategyError
from tradesweep.indicators.convention import DEFAULT_CONVENTION, IndicatorConvention
from tradesweep.strategies.base import Candle, SignalFlag, Signals, Strategy
from tradesweep.strategies.config import read_yaml
from tradesweep.strategies.crossing import crosses_above, crosses_below, price, shift, to_flag
from tradesweep.strategies.declarative.indicators import KINDS, Stream
from tradesweep.strategies.declarative.orchestrator import is_orchestrator, translate
from tradesweep.strategies.declarative.spec import (
    EXECUTION_FIELDS,
    Combine,
    Compare,
    Condition,
    DeclarativeSpec,
    Operand,
    ParamRef,
    Value,
    parse_declarative,
)
from tradesweep.strategies.execution import Execution

COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
}


class DeclarativeStrategy(Strategy):
    """Base of the classes made by :func:`declarative_class`; ``spec`` holds the parsed file.

    ``execution`` carries the file's stop_loss, take_profit, trailing_stop, position_size and
    risk.max_drawdown (resolved against this instance's parameters) for the engine.
    """

    spec: ClassVar[DeclarativeSpec]
    document: ClassVar[Any]  # the parsed YAML, kept so an instance can be pickled

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
    ) -> None:
        super().__init__(params, indicator_convention=indicator_convention)
        values = {EXECUTION_FIELDS[k]: float(self._resolve(v)) for k, v in self.spec.execution}
        self.execution = Execution(**values)

    def __reduce__(self) -> tuple[Any, ...]:
        # the class is made at run time, so pickle rebuilds it from its document
        return (
            _rebuild,
            (self.document, self.spec.source, dict(self.params), self.indicator_convention),
        )

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        for rule in cls.spec.constraints:
            left = params[rule.left.name] if isinstance(rule.left, ParamRef) else rule.left
            right = params[rule.right.name] if isinstance(rule.right, ParamRef) else rule.right
            if not COMPARE[rule.op](left, right):
                culprit = rule.left if isinstance(rule.left, ParamRef) else rule.right
                raise ParameterError(
                    f"strategy '{cls.name}' needs {rule.text}, got "
                    + ", ".join(f"{k}={v}" for k, v in params.items()),
                    fix=f"choose parameters with {rule.text}",
                    strategy=cls.name,
                    parameter=culprit.name if isinstance(culprit, ParamRef) else None,
                )

    @classmethod
    def describe(cls) -> dict[str, Any]:
        out = super().describe()
        out["source"] = cls.spec.source
        out["execution"] = cls(None).execution.settings()
        return out

    # --- parameters and warm-up -----------------------------------------------------------

    def _resolve(self, value: Value) -> Any:
        return self.params[value.name] if isinstance(value, ParamRef) else value

    def _indicator_values(self) -> dict[str, dict[str, Any]]:
        """Each indicator's resolved arguments, with the ``convention`` it is computed in."""
        return {
            ind.id: {
                **{name: self._resolve(v) for name, v in ind.args},
                "convention": self.indicator_convention,
            }
            for ind in self.spec.indicators
        }

    def _first_valid(self, operand: Operand) -> int:
        if operand.kind != "indicator":
            return 0
        ind = next(i for i in self.spec.indicators if i.id == operand.name)
        values = self._indicator_values()[ind.id]
        return KINDS[ind.type].first_valid(values)[operand.output] + int(self._resolve(ind.shift))

    def _condition_warmup(self, cond: Condition) -> int:
        if isinstance(cond, Compare):
            first = max(self._first_valid(cond.left), self._first_valid(cond.right))
            return first + (1 if cond.op.startswith("crosses") else 0)
        parts = [self._condition_warmup(c) for c in cond.items]
        return max(parts) if cond.op == "all" else min(parts)

    def _conditions(self) -> list[Condition | None]:
        sides = (self.spec.long, self.spec.short)
        return [
            cond
            for side in sides
            for cond in ((side.entry, side.exit) if side is not None else (None, None))
        ]

    def warmup_period(self) -> int:
        return min(self._condition_warmup(c) for c in self._conditions() if c is not None)

    # --- vectorised -----------------------------------------------------------------------

    def signals(self, bars: pd.DataFrame) -> Signals:
        n = len(bars)
        arrays: dict[str, np.ndarray] = {}
        params = self._indicator_values()
        for ind in self.spec.indicators:
            lag = int(self._resolve(ind.shift))
            for k, out in enumerate(KINDS[ind.type].compute(bars, params[ind.id])):
                arrays[f"{ind.id}[{k}]"] = shift(np.asarray(out, dtype=np.float64), lag)

        def operand(op: Operand) -> np.ndarray | float:
            if op.kind == "price":
                return price(bars, op.name)
            if op.kind == "indicator":
                return arrays[op.key]
            return float(self.params[op.name]) if op.kind == "param" else op.value

        def evaluate(cond: Condition | None) -> np.ndarray:
            if cond is None:
                return np.zeros(n, dtype=np.bool_)
            if isinstance(cond, Combine):
                parts = [evaluate(c) for c in cond.items]
                reduce = np.logical_and if cond.op == "all" else np.logical_or
                return reduce.reduce(parts, axis=0)
            left, right = operand(cond.left), operand(cond.right)
            if cond.op == "crosses_above":
                return crosses_above(np.broadcast_to(left, (n,)), right)
            if cond.op == "crosses_below":
                return crosses_below(np.broadcast_to(left, (n,)), right)
            return np.broadcast_to(COMPARE[cond.op](left, right), (n,)).copy()

        return Signals(*(evaluate(c) for c in self._conditions()))

    # --- streaming ------------------------------------------------------------------------

    def reset(self) -> None:
        params = self._indicator_values()
        self._streams: list[tuple[str, Stream, deque[tuple[float, ...]] | None]] = []
        for ind in self.spec.indicators:
            lag = int(self._resolve(ind.shift))
            delay: deque[tuple[float, ...]] | None = deque(maxlen=lag + 1) if lag else None
            self._streams.append((ind.id, KINDS[ind.type].stream(params[ind.id]), delay))
        self._previous: dict[str, float] = {}

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        values: dict[str, float] = {}
        for ident, stream, delay in self._streams:
            outputs = stream.update(candle)
            if delay is not None:
                delay.append(outputs)
                outputs = delay[0] if len(delay) == delay.maxlen else (np.nan,) * len(outputs)
            for k, v in enumerate(outputs):
                values[f"{ident}[{k}]"] = float(v)
        previous = self._previous

        def operand(op: Operand, now: bool) -> float:
            if op.kind == "number":
                return op.value
            if op.kind == "param":
                return float(self.params[op.name])
            key = op.name if op.kind == "price" else op.key
            if not now:
                return previous.get(key, np.nan)
            return float(getattr(candle, op.name)) if op.kind == "price" else values[key]

        def evaluate(cond: Condition | None) -> bool:
            if cond is None:
                return False
            if isinstance(cond, Combine):
                parts = [evaluate(c) for c in cond.items]
                return all(parts) if cond.op == "all" else any(parts)
            a, b = operand(cond.left, True), operand(cond.right, True)
            if cond.op == "crosses_above":
                return a > b and operand(cond.left, False) <= operand(cond.right, False)
            if cond.op == "crosses_below":
                return a < b and operand(cond.left, False) >= operand(cond.right, False)
            return bool(COMPARE[cond.op](a, b))

        flag = to_flag(*(evaluate(c) for c in self._conditions()))
        values.update(
            {f: float(getattr(candle, f)) for f in ("open", "high", "low", "close", "volume")}
        )
        self._previous = values
        return flag


def declarative_class(data: Any, *, source: str) -> type[DeclarativeStrategy]:
    """A DeclarativeStrategy subclass for one parsed file (its defaults checked here); a file
    in the backtest orchestrator's format is translated first (:mod:`.orchestrator`)."""
    if is_orchestrator(data):
        data = translate(data, source=source)
    spec = parse_declarative(data, source=source)
    cls: type[DeclarativeStrategy] = type(
        f"Declarative[{spec.name}]",
        (DeclarativeStrategy,),
        {
            "name": spec.name,
            "description": spec.description,
            "schema": spec.schema,
            "spec": spec,
            "document": data,
            "__module__": __name__,
        },
    )
    try:
        cls.check(cls.defaults())
    except ParameterError as exc:
        raise StrategyError(
            f"{source}: the parameter defaults break 'constraints': {exc.message}",
            fix="change the defaults or the constraint",
            file=source,
            field="constraints",
        ) from None
    return cls


def _rebuild(
    document: Any,
    source: str,
    params: dict[str, Any],
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
) -> DeclarativeStrategy:
    cls = declarative_class(document, source=source)
    return cls(params, indicator_convention=indicator_convention)


def load_declarative(path: str | Path) -> type[DeclarativeStrategy]:
    """Read a declarative strategy file into its class."""
    return declarative_class(read_yaml(path), source=str(path))
