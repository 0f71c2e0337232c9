"""Strategy configs: a strategy's name, description and parameter schema, written in YAML.

Each built-in reads its own packaged file ``strategies/configs/NAME.yaml``; plugins may point
:class:`ConfiguredStrategy` at a file of their own, and declarative strategies use the same
``parameters:`` format. One file per strategy is the single source of its defaults and bounds::

    name: sma_crossover
    description: >
      One paragraph: when it enters, when it exits.
    parameters:
      fast: {type: int, default: 10, min: 2, max: 500, description: Bars in the fast average.}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tradesweep.errors import ParameterError, StrategyError, did_you_mean
from tradesweep.strategies.base import Param, Strategy

PARAM_TYPES: dict[str, type] = {"int": int, "float": float}
PARAM_KEYS = ("type", "default", "min", "max", "description")
CONFIG_KEYS = ("name", "description", "parameters")


@dataclass(frozen=True)
class StrategyConfig:
    """What a config file says about one strategy."""

    name: str
    description: str
    schema: tuple[Param, ...]


def read_yaml(path: str | Path) -> Any:
    """Parse one YAML file; a missing file or a syntax error is a StrategyError naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StrategyError(
            f"cannot read {path}: {exc.strerror or exc}",
            fix="check the path",
            file=str(path),
        ) from None
    return parse_yaml(text, source=str(path))


def parse_yaml(text: str, *, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"{source}, line {line}" if line else source
        raise StrategyError(
            f"{where}: not valid YAML: {problem}",
            fix="fix the YAML syntax (indentation, quoting, ':' after keys)",
            file=source,
            line=line,
        ) from None


def unknown_key_error(key: Any, allowed: Any, *, where: str, source: str) -> StrategyError:
    """A StrategyError for an unknown mapping key, with a did-you-mean and the allowed keys."""
    allowed = list(allowed)
    return StrategyError(
        f"{source}: unknown key '{key}' at '{where}'",
        fix=f"{did_you_mean(key, allowed)}allowed: {', '.join(allowed)}",
        file=source,
        field=where,
    )


def field_error(message: str, *, where: str, source: str, fix: str) -> StrategyError:
    return StrategyError(f"{source}: '{where}' {message}", fix=fix, file=source, field=where)


def parse_schema(data: Any, *, where: str, source: str, strategy: str) -> tuple[Param, ...]:
    """Turn a ``parameters:`` mapping into Params, refusing anything malformed."""
    if data is None:
        return ()
    if not isinstance(data, Mapping):
        raise field_error(
            "must be a mapping of parameter name to {type, default, min, max, description}",
            where=where,
            source=source,
            fix="e.g. fast: {type: int, default: 10, min: 2, max: 200}",
        )
    params = []
    for name, spec in data.items():
        params.append(
            parse_param(name, spec, where=f"{where}.{name}", source=source, strategy=strategy)
        )
    return tuple(params)


def parse_param(name: Any, spec: Any, *, where: str, source: str, strategy: str) -> Param:
    if not isinstance(name, str) or not name.isidentifier():
        raise field_error(
            "is not a valid parameter name",
            where=where,
            source=source,
            fix="use letters, digits and '_', starting with a letter",
        )
    if not isinstance(spec, Mapping):
        raise field_error(
            "must be a mapping {type, default, min, max, description}",
            where=where,
            source=source,
            fix=f"e.g. {name}: {{type: int, default: 10, min: 2, max: 200}}",
        )
    for key in spec:
        if key not in PARAM_KEYS:
            raise unknown_key_error(key, PARAM_KEYS, where=f"{where}.{key}", source=source)
    for key in ("type", "default", "min", "max"):
        if key not in spec:
            raise field_error(
                f"is missing '{key}'",
                where=where,
                source=source,
                fix="every parameter needs type, default, min and max",
            )
    type_name = spec["type"]
    if type_name not in PARAM_TYPES:
        raise field_error(
            f"has type {type_name!r}",
            where=f"{where}.type",
            source=source,
            fix=f"{did_you_mean(type_name, PARAM_TYPES)}allowed: {', '.join(PARAM_TYPES)}",
        )
    kind = PARAM_TYPES[type_name]
    values = {}
    for key in ("default", "min", "max"):
        values[key] = _number(spec[key], kind, where=f"{where}.{key}", source=source)
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise field_error(
            "must be text", where=f"{where}.description", source=source, fix="quote it"
        )
    if values["min"] > values["max"]:
        raise field_error(
            f"has min {values['min']} above max {values['max']}",
            where=where,
            source=source,
            fix="swap them",
        )
    param = Param(name, kind, values["default"], values["min"], values["max"], description.strip())
    try:
        param.coerce(param.default, strategy)
    except ParameterError as exc:
        raise field_error(
            f"has a default outside its bounds: {exc.message}",
            where=f"{where}.default",
            source=source,
            fix=exc.fix or "",
        ) from None
    return param


def _number(value: Any, kind: type, *, where: str, source: str) -> int | float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and not math.isfinite(value):
        ok = False
    if ok and kind is int and value != int(value):
        ok = False
    if not ok:
        raise field_error(
            f"is {value!r}, not a finite {kind.__name__}",
            where=where,
            source=source,
            fix=f"give a {kind.__name__}",
        )
    return kind(value)


def parse_config(data: Any, *, source: str) -> StrategyConfig:
    """A config mapping (name, description, parameters) as a StrategyConfig."""
    if not isinstance(data, Mapping):
        raise StrategyError(
            f"{source}: a strategy config must be a mapping with name, description, parameters",
            file=source,
        )
    for key in data:
        if key not in CONFIG_KEYS:
            raise unknown_key_error(key, CONFIG_KEYS, where=str(key), source=source)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise field_error("must be a non-empty text", where="name", source=source, fix="name it")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise field_error("must be text", where="description", source=source, fix="quote it")
    schema = parse_schema(data.get("parameters"), where="parameters", source=source, strategy=name)
    return StrategyConfig(name, " ".join(description.split()), schema)


def config_path(name: str) -> Path:
    """Where the packaged config of built-in ``name`` lives."""
    return Path(str(resources.files("tradesweep.strategies") / "configs" / f"{name}.yaml"))


def load_config(name_or_path: str | Path) -> StrategyConfig:
    """The config of a built-in (by name) or of any YAML file (by path)."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = config_path(str(name_or_path))
    return parse_config(read_yaml(path), source=str(path))


class ConfiguredStrategy(Strategy):
    """A strategy whose name, description and schema come from a config file::

    class SmaCrossover(ConfiguredStrategy, config="sma_crossover"): ...
    class Mine(ConfiguredStrategy, config=Path(__file__).with_name("mine.yaml")): ...
    """

    def __init_subclass__(cls, config: str | Path | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if config is not None:
            loaded = load_config(config)
            cls.name = loaded.name
            cls.description = loaded.description
            cls.schema = loaded.schema
