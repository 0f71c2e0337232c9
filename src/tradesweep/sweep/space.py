"""Parameter spaces: which parameter combinations a sweep may try.

A space is the cartesian grid of one *axis* per schema parameter (in schema order): a range
``min:max:step`` inclusive at both ends, an explicit list, or a single fixed value; parameters
left out stay at the strategy default. A combination is *valid* when the strategy's own
:meth:`~tradesweep.strategies.base.Strategy.check` accepts it and the optional constraint
expression holds. Combinations are addressed by their flat *grid index* (row-major, the last
schema parameter varying fastest), so nothing needs materialising to count, sample or walk to a
neighbour. Engine settings of :data:`~tradesweep.sweep.axes.SETTING_AXES` (``stop_loss``,
``take_profit``, ``size``, ...) given in the ranges are further axes after the schema's, their
values checked by ``EngineSettings``' rules; the strategy's ``check()`` never sees them, a
constraint may use them. The rules are written out in ``docs/sweeps.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, cast

import numpy as np
import pandas as pd

from tradesweep.engine.settings import SETTING_RANGES, SIZE_RANGES, EngineSettings
from tradesweep.errors import ParameterError, SettingsError
from tradesweep.strategies.base import Param, Strategy
from tradesweep.sweep.axes import (
    check_setting_rows,
    check_setting_value,
    setting_axes,
    unknown_name_error,
)
from tradesweep.sweep.constraint import Constraint

Number = int | float

# Flat grid indices are int64; this keeps every index and index arithmetic well inside it.
MAX_GRID_SIZE = 2**62
COUNT_DIGITS = 400
"""Decimal digits :func:`build_axis` counts a range's values with (see there)."""
INT64_MAX = 2**63 - 1
SAMPLING_ROUNDS = 64
CLI_SYNTAX = "write NAME=MIN:MAX:STEP (inclusive range), NAME=V1,V2,... (list) or NAME=V (fixed)"


@dataclass(frozen=True)
class Range:
    """``min`` to ``max`` inclusive in steps of ``step`` (None: 1, for integer parameters only).
    A ``max`` that is not on the step grid is not reached: ``5:52:5`` ends at 50."""

    min: Number
    max: Number
    step: Number | None = None


@dataclass(frozen=True)
class Values:
    """An explicit list of values (sorted and de-duplicated when expanded); one value = fixed."""

    values: tuple[Number, ...]


RangeSpec = Range | Values | Number | str | Sequence[Number] | Mapping[str, Any]


def _number(text: str, name: str) -> Number:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise ParameterError(
            f"parameter '{name}': {text!r} is not a number", fix=CLI_SYNTAX, parameter=name
        ) from None
    if not math.isfinite(value):
        raise ParameterError(
            f"parameter '{name}': {text!r} is not a finite number", fix=CLI_SYNTAX, parameter=name
        )
    return value


def _as_number(x: Any, name: str) -> Number:
    """A Python int or float from a number, a numpy scalar or text."""
    if isinstance(x, bool):
        raise ParameterError(f"parameter '{name}': {x!r} is not a number", parameter=name)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating) and math.isfinite(x):
        return float(x)
    return _number(str(x), name)


def parse_range_spec(text: str, name: str) -> Range | Values:
    """Parse the value part of CLI text: ``5:50:5`` / ``5:50`` (range), ``10,20,30`` (list),
    ``10`` (fixed)."""
    text = text.strip()
    if not text:
        raise ParameterError(f"parameter '{name}' has no value", fix=CLI_SYNTAX, parameter=name)
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ParameterError(
                f"parameter '{name}': range {text!r} must be MIN:MAX or MIN:MAX:STEP",
                fix=CLI_SYNTAX,
                parameter=name,
            )
        numbers = [_number(p, name) for p in parts]
        return Range(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None)
    return Values(tuple(_number(p, name) for p in text.split(",")))


def parse_range(text: str) -> tuple[str, Range | Values]:
    """Parse one CLI item ``NAME=SPEC`` into ``(name, spec)``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ParameterError(f"cannot read parameter range {text!r}", fix=CLI_SYNTAX)
    return name, parse_range_spec(spec, name)


def parse_ranges(texts: Iterable[str]) -> dict[str, Range | Values]:
    """Parse several CLI items; a parameter given twice is refused."""
    out: dict[str, Range | Values] = {}
    for text in texts:
        name, spec = parse_range(text)
        if name in out:
            raise ParameterError(
                f"parameter '{name}' is given twice", fix="give each parameter once", parameter=name
            )
        out[name] = spec
    return out


def as_range_spec(spec: RangeSpec, name: str) -> Range | Values:
    """Normalise any accepted spec (Range, Values, number, CLI text, list, dict) to Range|Values.

    Dicts take ``{"min", "max", "step"}`` (step optional) or ``{"values": [...]}``."""
    if isinstance(spec, Range | Values):
        return spec
    if isinstance(spec, bool):
        raise ParameterError(f"parameter '{name}' must be a number, got {spec!r}", parameter=name)
    if isinstance(spec, int | float):
        return Values((spec,))
    if isinstance(spec, str):
        return parse_range_spec(spec, name)
    if isinstance(spec, Mapping):
        keys = set(spec)
        if keys == {"values"}:
            return as_range_spec(list(spec["values"]), name)
        if {"min", "max"} <= keys <= {"min", "max", "step"}:
            return Range(spec["min"], spec["max"], spec.get("step"))
        raise ParameterError(
            f"parameter '{name}': range {dict(spec)!r} has keys {sorted(keys)}",
            fix='give {"min": ..., "max": ..., "step": ...} or {"values": [...]}',
            parameter=name,
        )
    if isinstance(spec, Sequence | np.ndarray):
        return Values(tuple(cast(Sequence[Number], spec)))
    raise ParameterError(
        f"parameter '{name}': cannot read range {spec!r}",
        fix="give a number, a list, a {min, max, step} dict or CLI text like '5:50:5'",
        parameter=name,
    )


@dataclass(frozen=True, eq=False)
class Axis:
    """The values one parameter takes, without materialising them: ``start + k * step`` for a
    range, ``explicit[k]`` for a list."""

    name: str
    dtype: type  # int or float
    size: int
    start: Number = 0
    step: Number = 1
    decimals: int | None = None  # round range values to the decimals of start and step
    explicit: np.ndarray | None = None

    def take(self, k: np.ndarray) -> np.ndarray:
        """Values at axis positions ``k`` (int64 or float64 array)."""
        k = np.asarray(k, dtype=np.int64)
        if self.explicit is not None:
            return self.explicit[k]
        if self.dtype is int:
            return np.int64(self.start) + k * np.int64(self.step)
        values = float(self.start) + k * float(self.step)
        return values if self.decimals is None else np.round(values, self.decimals)

    def values(self) -> np.ndarray:
        return self.take(np.arange(self.size))


def _decimals(x: Number) -> int:
    exponent = Decimal(repr(x)).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


class _SettingParam:
    """A setting axis seen as a float parameter by :func:`build_axis`: its values are checked
    by ``EngineSettings``' own rules over the sweep's settings (bounds, size_type, pairs)."""

    type = float

    def __init__(self, name: str, settings: EngineSettings) -> None:
        self.name = name
        self.settings = settings
        bounds = SIZE_RANGES[settings.size_type] if name == "size" else SETTING_RANGES[name]
        self.min, self.max = bounds.low, bounds.high

    def coerce(self, value: Any, strategy: str) -> float:
        return check_setting_value(self.settings, self.name, value)


def build_axis(param: Param | _SettingParam, spec: RangeSpec, strategy: str) -> Axis:
    """Expand one spec against its schema entry; every bad value raises a ParameterError naming
    the parameter and the value."""
    spec = as_range_spec(spec, param.name)
    if isinstance(spec, Values):
        if not spec.values:
            raise ParameterError(
                f"parameter '{param.name}' has an empty list of values",
                fix="give at least one value",
                parameter=param.name,
            )
        if any(isinstance(v, bool) for v in spec.values):
            raise ParameterError(
                f"parameter '{param.name}' must be numbers, got {list(spec.values)!r}",
                fix=f"give numbers between {param.min} and {param.max}",
                parameter=param.name,
            )
        coerced = sorted({param.coerce(v, strategy) for v in spec.values})
        dtype = np.int64 if param.type is int else np.float64
        return Axis(param.name, param.type, len(coerced), explicit=np.array(coerced, dtype=dtype))
    where = f"parameter '{param.name}' of strategy '{strategy}'"
    step = spec.step
    if step is None:
        if param.type is not int:
            raise ParameterError(
                f"{where} is a float; its range {spec.min}:{spec.max} needs a step",
                fix=f"write {param.name}={spec.min}:{spec.max}:STEP",
                parameter=param.name,
                key="step",
            )
        step = 1
    start = _in_bounds(param, _range_number(spec.min, param, "min"), strategy, "min")
    stop = _range_number(spec.max, param, "max")
    step = _range_number(step, param, "step")
    if not step > 0:
        raise ParameterError(
            f"{where} has step {step!r}; a step must be a positive number",
            fix="give a step > 0, e.g. min:max:1",
            parameter=param.name,
            key="step",
        )
    if param.type is int:
        if step != int(step):
            raise ParameterError(
                f"{where} is an integer; step {step!r} would give fractional values",
                fix="give a whole-number step",
                parameter=param.name,
                key="step",
            )
        step = int(step)
    if not stop >= start:
        raise ParameterError(
            f"{where} has range {spec.min}:{spec.max} with min > max",
            fix="give min <= max",
            parameter=param.name,
            key="max",
        )
    # Count with exact decimal arithmetic so 0.1:0.5:0.1 has 5 values, not 4; with digits
    # enough for any float range within int64 and any float step (5e-324 over 1.8e19 is a
    # count of 343 digits): the default 28 digits would fail on a tiny step.
    with localcontext() as exact:
        exact.prec = COUNT_DIGITS
        count = int((Decimal(repr(stop)) - Decimal(repr(start))) // Decimal(repr(step))) + 1
    if param.type is int:  # the last value, exactly, before numpy computes any
        _in_bounds(param, start + (count - 1) * step, strategy, "max")
    if count > MAX_GRID_SIZE:
        raise ParameterError(
            f"{where}: range {spec.min}:{spec.max}:{spec.step} has {Decimal(count):.3e} values",
            fix="give a bigger step",
            parameter=param.name,
            key="step",
        )
    decimals = max(_decimals(start), _decimals(step)) if param.type is float else None
    axis = Axis(
        param.name,
        param.type,
        count,
        start=start,
        step=step,
        decimals=decimals if decimals is not None and decimals <= 15 else None,
    )
    # The last value as numpy computes it (rounded to the decimals), in bounds too.
    _in_bounds(param, axis.take(np.array([count - 1]))[0].item(), strategy, "max")
    return axis


def _range_number(value: Any, param: Param | _SettingParam, key: str) -> Number:
    """``min``, ``max`` or ``step`` of a range as a number within int64 (so no value, count or
    index computed from it overflows); ``key`` names which."""
    try:
        number = _as_number(value, param.name)
    except ParameterError as exc:
        exc.details["key"] = key
        raise
    if abs(number) > INT64_MAX:
        raise ParameterError(
            f"parameter '{param.name}': {key} {value!r} is beyond 64-bit integers",
            fix=f"give values within the parameter's bounds [{param.min}, {param.max}]",
            parameter=param.name,
            key=key,
        )
    return number


def _in_bounds(param: Param | _SettingParam, value: Number, strategy: str, key: str) -> Number:
    """``param.coerce(value)``, its error saying which end of the range (``key``) is out."""
    try:
        return param.coerce(value, strategy)
    except ParameterError as exc:
        exc.details["key"] = key
        raise


@dataclass(frozen=True, eq=False)
class Combinations:
    """Parameter combinations as columns (one array per schema parameter, schema order) plus
    their flat grid index."""

    index: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def __getitem__(self, i: int) -> dict[str, Number]:
        return {name: col[i].item() for name, col in self.columns.items()}

    def to_dicts(self) -> list[dict[str, Number]]:
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self._rows()]

    def _rows(self) -> Iterable[tuple[Number, ...]]:
        return zip(*(col.tolist() for col in self.columns.values()), strict=True)

    def to_frame(self) -> pd.DataFrame:
        """One row per combination, indexed by ``grid_index``."""
        return pd.DataFrame(self.columns, index=pd.Index(self.index, name="grid_index"))


class _ReadTracker(dict):  # type: ignore[type-arg]
    """A params dict that records which keys ``check()`` reads. A rule that reads only fast and
    slow is then evaluated once per distinct (fast, slow) pair instead of once per combination.
    Anything that exposes every key (iteration, items, copy, ...) marks all keys as read."""

    def __init__(self, values: Mapping[str, Number]) -> None:
        super().__init__(values)
        self.read: set[str] = set()
        self.read_all = False

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def _everything(self, method: Callable[..., Any], *args: Any) -> Any:
        self.read_all = True
        return method(self, *args)

    def __iter__(self) -> Any:
        return self._everything(dict.__iter__)

    def keys(self) -> Any:
        return self._everything(dict.keys)

    def values(self) -> Any:
        return self._everything(dict.values)

    def items(self) -> Any:
        return self._everything(dict.items)

    def copy(self) -> Any:
        return self._everything(dict.copy)

    def __repr__(self) -> str:
        return str(self._everything(dict.__repr__))

    def __eq__(self, other: object) -> bool:
        return bool(self._everything(dict.__eq__, other))

    __hash__ = None  # type: ignore[assignment]


class ParameterSpace:
    """The combinations of ``strategy_cls``'s parameters a sweep may try.

    ``ranges`` maps parameter names to specs (see :func:`as_range_spec`); the rest stay at their
    defaults. ``constraint`` is an optional expression over parameter names, e.g.
    ``"slow >= 2 * fast"``, applied on top of the strategy's own ``check()``. Grid searches
    (:meth:`valid_combinations`) are refused above ``max_combinations`` before anything is built;
    :meth:`sample` works on any size."""

    def __init__(
        self,
        strategy_cls: type[Strategy],
        ranges: Mapping[str, RangeSpec] | None = None,
        constraint: str | None = None,
        max_combinations: int = 1_000_000,
        *,
        settings: EngineSettings | None = None,
    ) -> None:
        self.strategy_cls = strategy_cls
        strategy = strategy_cls.name
        known = {p.name: p for p in strategy_cls.schema}
        self.settings = settings if settings is not None else EngineSettings()
        available = setting_axes(list(known))
        ranges = dict(ranges or {})
        for key in ranges:
            if key not in known and key not in available:
                raise unknown_name_error(key, strategy, list(known))
        if isinstance(max_combinations, bool) or not (
            isinstance(max_combinations, int) and max_combinations >= 1
        ):
            raise SettingsError(
                f"max_combinations must be a positive integer, got {max_combinations!r}",
                fix="give e.g. 1000000",
                field="max_combinations",
            )
        self.max_combinations = max_combinations
        self.param_names: tuple[str, ...] = tuple(known)
        self.setting_names: tuple[str, ...] = tuple(n for n in available if n in ranges)
        setting_params = [_SettingParam(n, self.settings) for n in self.setting_names]
        self.axes: tuple[Axis, ...] = tuple(
            build_axis(p, ranges.get(p.name, p.default), strategy) for p in strategy_cls.schema
        ) + tuple(build_axis(p, ranges[p.name], strategy) for p in setting_params)
        if self.setting_names:  # exclusive pairs across axes (stop_loss with stop_loss_atr)
            check_setting_rows(
                self.settings,
                {a.name: a.values() for a in self.axes if a.name in self.setting_names},
            )
        self.shape: tuple[int, ...] = tuple(a.size for a in self.axes)
        self.grid_size: int = math.prod(self.shape)
        if self.grid_size > MAX_GRID_SIZE:
            raise ParameterError(
                f"the parameter grid has {self.grid_size:.3e} combinations, more than even "
                f"random search can address ({MAX_GRID_SIZE:.3e})",
                fix="narrow the ranges or use bigger steps",
                strategy=strategy,
                grid_size=str(self.grid_size),
            )
        self.names: tuple[str, ...] = tuple(a.name for a in self.axes)
        self.constraint = Constraint(constraint, self.names) if constraint is not None else None
        self._rule_keys: list[int] = []  # axes check() has been seen to read
        self._valid: np.ndarray | None = None

    def __repr__(self) -> str:
        swept = {a.name: a.size for a in self.axes if a.size > 1}
        return (
            f"ParameterSpace({self.strategy_cls.name!r}, swept={swept}, "
            f"grid_size={self.grid_size}, constraint={self.constraint})"
        )

    @property
    def swept(self) -> tuple[str, ...]:
        """Parameters with more than one value."""
        return tuple(a.name for a in self.axes if a.size > 1)

    def check_size(self) -> None:
        """Refuse a grid search above ``max_combinations`` (nothing is built before this)."""
        if self.grid_size > self.max_combinations:
            raise ParameterError(
                f"the parameter grid has {self.grid_size:,} combinations, above the limit of "
                f"{self.max_combinations:,}",
                fix="narrow the ranges, use a bigger step, or search a sample of it with "
                "search=random or search=bayes and trials=N",
                strategy=self.strategy_cls.name,
                grid_size=self.grid_size,
                max_combinations=self.max_combinations,
            )

    def valid_indices(self) -> np.ndarray:
        """Sorted grid indices of every valid combination (int64); refused above the limit."""
        if self._valid is None:
            self.check_size()
            self._valid = np.flatnonzero(self.is_valid(np.arange(self.grid_size, dtype=np.int64)))
        return self._valid

    @property
    def valid_count(self) -> int:
        return int(self.valid_indices().shape[0])

    def valid_combinations(self) -> Combinations:
        """Every valid combination in grid order. Raises when there is none, saying why."""
        valid = self.valid_indices()
        if valid.shape[0] == 0:
            self._raise_none_valid()
        return self.combinations(valid)

    def combinations(self, indices: np.ndarray | Sequence[int]) -> Combinations:
        """The combinations at grid ``indices`` (valid or not)."""
        indices = self._as_indices(indices)
        positions = self._unravel(indices)
        columns = {a.name: a.take(k) for a, k in zip(self.axes, positions, strict=True)}
        return Combinations(indices, columns)

    def is_valid(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """Boolean mask: which grid ``indices`` pass the constraint and the strategy's check."""
        indices = self._as_indices(indices)
        positions = self._unravel(indices)
        mask = np.ones(indices.shape[0], dtype=np.bool_)
        if self.constraint is not None:
            columns = {
                a.name: a.take(k)
                for a, k in zip(self.axes, positions, strict=True)
                if a.name in self.constraint.names_used
            }
            mask = self.constraint.evaluate(columns, indices.shape[0])
        survivors = np.flatnonzero(mask)
        if survivors.shape[0]:
            mask[survivors] = self._rule_mask([k[survivors] for k in positions])
        return mask

    def sample(self, n: int, seed: int | None = None) -> Combinations:
        """``n`` distinct valid combinations drawn uniformly with ``seed``, in grid order.

        Within ``max_combinations`` the valid set is built and sampled exactly (all of it when it
        has no more than ``n``); above it, grid indices are drawn uniformly and the invalid and
        repeated ones rejected, so a huge grid is never built."""
        if isinstance(n, bool) or not (isinstance(n, int | np.integer) and n >= 1):
            raise SettingsError(
                f"the number of trials must be a positive integer, got {n!r}",
                fix="give e.g. trials=200",
                field="trials",
            )
        n = int(n)
        rng = np.random.default_rng(seed)
        if self.grid_size <= self.max_combinations:
            valid = self.valid_indices()
            if valid.shape[0] == 0:
                self._raise_none_valid()
            chosen = valid if n >= valid.shape[0] else rng.choice(valid, size=n, replace=False)
            return self.combinations(np.sort(chosen))
        found = np.empty(0, dtype=np.int64)
        draws = 0
        for _ in range(SAMPLING_ROUNDS):
            batch = rng.integers(0, self.grid_size, size=max(1024, 4 * (n - found.shape[0])))
            draws += batch.shape[0]
            found = _first_occurrences(np.concatenate([found, batch[self.is_valid(batch)]]))
            if found.shape[0] >= n:
                return self.combinations(np.sort(found[:n]))
        raise ParameterError(
            f"found only {found.shape[0]} valid combinations in {draws:,} random draws from a "
            f"grid of {self.grid_size:,}; the constraints reject nearly all of it",
            fix="narrow the ranges to where the constraints hold, or ask for fewer trials",
            strategy=self.strategy_cls.name,
        )

    def neighbours(self, index: int) -> np.ndarray:
        """Grid indices one step away from ``index`` along one parameter (up to two per swept
        parameter; no diagonals), valid ones only, sorted."""
        index = int(self._as_indices([index])[0])
        position = [int(k[0]) for k in self._unravel(np.array([index], dtype=np.int64))]
        candidates = []
        for axis_no, size in enumerate(self.shape):
            for delta in (-1, 1):
                moved = position[axis_no] + delta
                if 0 <= moved < size:
                    point = list(position)
                    point[axis_no] = moved
                    candidates.append(int(np.ravel_multi_index(point, self.shape)))
        out = np.array(sorted(candidates), dtype=np.int64)
        return out[self.is_valid(out)] if out.shape[0] else out

    def _as_indices(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        out = np.asarray(indices, dtype=np.int64).reshape(-1)
        if out.shape[0] and (out.min() < 0 or out.max() >= self.grid_size):
            raise ParameterError(
                f"grid index out of range [0, {self.grid_size})",
                fix="use an index from valid_indices()",
            )
        return out

    def _unravel(self, indices: np.ndarray) -> list[np.ndarray]:
        if not self.shape:
            return []
        return [np.asarray(k, dtype=np.int64) for k in np.unravel_index(indices, self.shape)]

    def _rule_mask(self, positions: list[np.ndarray]) -> np.ndarray:
        """The strategy's check() over the points at axis ``positions``, called once per distinct
        value of the parameters it reads (widening that set whenever it reads a new one)."""
        n = positions[0].shape[0] if positions else 1
        base = {
            a.name: a.take(k[:1])[0].item()
            for a, k in zip(self.axes, positions, strict=True)
            if a.name in self.param_names
        }
        while True:
            keys = self._rule_keys
            shape = [self.shape[k] for k in keys]
            code = (
                np.ravel_multi_index([positions[k] for k in keys], shape)
                if keys
                else np.zeros(n, dtype=np.int64)
            )
            distinct, inverse = np.unique(code, return_inverse=True)
            sub = np.unravel_index(distinct, shape) if keys else ()
            values = [self.axes[k].take(s).tolist() for k, s in zip(keys, sub, strict=True)]
            ok = np.empty(distinct.shape[0], dtype=np.bool_)
            widened = False
            for j in range(distinct.shape[0]):
                params = _ReadTracker(
                    base | {self.names[k]: v[j] for k, v in zip(keys, values, strict=True)}
                )
                try:
                    self.strategy_cls.check(params)
                    ok[j] = True
                except ParameterError:
                    ok[j] = False
                read = (
                    set(range(len(self.axes)))
                    if params.read_all
                    else {self.names.index(k) for k in params.read if k in self.names}
                )
                if not read <= set(keys):
                    self._rule_keys = sorted(set(keys) | read)
                    widened = True
                    break
            if not widened:
                return ok[inverse.reshape(-1)]

    def _raise_none_valid(self) -> None:
        first = self.combinations([0])[0]
        shown = ", ".join(f"{k}={v}" for k, v in first.items())
        try:
            self.strategy_cls.check({k: v for k, v in first.items() if k in self.param_names})
            reason = f"the constraint '{self.constraint.text if self.constraint else ''}'"
        except ParameterError as exc:
            reason = f"the strategy's rules ({exc.message})"
        raise ParameterError(
            f"none of the {self.grid_size:,} parameter combinations is valid; {reason} reject "
            f"them all, e.g. {shown}",
            fix="widen or move the ranges, or relax the constraint",
            strategy=self.strategy_cls.name,
        )


def _first_occurrences(x: np.ndarray) -> np.ndarray:
    """``x`` with repeats removed, keeping the order of first appearance."""
    _, first = np.unique(x, return_index=True)
    return x[np.sort(first)]
