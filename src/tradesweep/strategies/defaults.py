"""User overrides of the built-ins' packaged defaults.

A defaults file is YAML mapping a built-in's name to the parameters to change. A value is
either the new default or a mapping of any of ``default``, ``min``, ``max``, ``description``::

    sma_crossover:
      fast: 20
      slow: {default: 100, max: 2000}
    rsi:
      oversold: 25

:func:`load_defaults_override` reads one such file, or every ``*.yaml`` / ``*.yml`` file of a
directory (sorted by name; a strategy may appear in only one of them). The registry applies it
when asked (``defaults=``), never otherwise: the CLI, ``serve`` and ``worker`` read the path in
the ``TRADESWEEP_STRATEGY_DEFAULTS`` environment variable (:mod:`tradesweep.environment`) and
pass it. Applying never mutates a built-in class: it derives a subclass
whose schema carries the new values, checked like the packaged ones (bounds, fast < slow).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tradesweep.errors import ParameterError, StrategyError
from tradesweep.strategies.base import Param, Strategy
from tradesweep.strategies.config import field_error, parse_param, read_yaml, unknown_key_error

DEFAULTS_ENV = "TRADESWEEP_STRATEGY_DEFAULTS"
OVERRIDE_KEYS = ("default", "min", "max", "description")


@dataclass(frozen=True)
class DefaultsOverride:
    """Checked overrides: strategy name -> parameter name -> the fields to replace."""

    entries: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    source: str = ""

    def apply(self, cls: type[Strategy]) -> type[Strategy]:
        """``cls`` itself when nothing overrides it, else a subclass with the new schema."""
        changes = self.entries.get(cls.name)
        if not changes:
            return cls
        schema = _override_schema(cls, changes, self.source)
        derived = type(cls.__name__, (cls,), {"schema": schema, "__module__": cls.__module__})
        derived.__doc__ = cls.__doc__
        derived.__qualname__ = cls.__qualname__
        return derived

    def entries_for(self, name: str) -> dict[str, dict[str, Any]]:
        """What this override changes in strategy ``name``, as plain JSON-able dicts (empty
        when nothing): the ``defaults`` a spec records, so its id follows the override."""
        return {param: dict(fields) for param, fields in self.entries.get(name, {}).items()}

    @classmethod
    def of(
        cls, name: str, entries: Mapping[str, Mapping[str, Any]], source: str = ""
    ) -> DefaultsOverride:
        """The override of one strategy, from :meth:`entries_for`'s form (a spec's record)."""
        if not entries:
            return NO_OVERRIDE
        frozen = {param: MappingProxyType(dict(fields)) for param, fields in entries.items()}
        return cls(MappingProxyType({name: MappingProxyType(frozen)}), source)


NO_OVERRIDE = DefaultsOverride()


def load_defaults_override(
    path: str | Path, builtins: Mapping[str, type[Strategy]] | None = None
) -> DefaultsOverride:
    """Read and check a defaults file (or a directory of them) against the built-ins."""
    if builtins is None:
        from tradesweep.strategies.builtins import BUILTINS

        builtins = BUILTINS
    path = Path(path)
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    elif path.exists():
        files = [path]
    else:
        raise StrategyError(
            f"defaults file {path} does not exist",
            fix=f"give a YAML file or a directory of them (check {DEFAULTS_ENV})",
            file=str(path),
        )
    entries: dict[str, Mapping[str, Mapping[str, Any]]] = {}
    seen_in: dict[str, str] = {}
    for file in files:
        source = str(file)
        data = read_yaml(file)
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise StrategyError(
                f"{source}: a defaults file maps a built-in strategy name to its parameters",
                fix="e.g. 'sma_crossover: {fast: 20}'",
                file=source,
            )
        for name, params in data.items():
            if name not in builtins:
                raise unknown_key_error(name, builtins, where=str(name), source=source)
            if name in seen_in:
                raise StrategyError(
                    f"{source}: '{name}' is already overridden in {seen_in[name]}",
                    fix="keep one override per strategy",
                    file=source,
                    field=str(name),
                )
            seen_in[name] = source
            entries[name] = MappingProxyType(_parse_entry(name, params, source))
    override = DefaultsOverride(MappingProxyType(entries), str(path))
    for name in entries:
        override.apply(builtins[name])  # check bounds and cross rules now, not at first use
    return override


def resolve_defaults(defaults: DefaultsOverride | str | Path | None) -> DefaultsOverride:
    """An explicit override, a path to load, or (None) no override."""
    if isinstance(defaults, DefaultsOverride):
        return defaults
    if defaults is None:
        return NO_OVERRIDE
    return load_defaults_override(defaults)


def _parse_entry(name: str, params: Any, source: str) -> dict[str, Mapping[str, Any]]:
    if not isinstance(params, Mapping):
        raise field_error(
            "must map parameter names to a new default or {default, min, max, description}",
            where=name,
            source=source,
            fix=f"e.g. '{name}: {{fast: 20}}'",
        )
    out: dict[str, Mapping[str, Any]] = {}
    for param, value in params.items():
        where = f"{name}.{param}"
        if isinstance(value, Mapping):
            for key in value:
                if key not in OVERRIDE_KEYS:
                    raise unknown_key_error(
                        key, OVERRIDE_KEYS, where=f"{where}.{key}", source=source
                    )
            out[str(param)] = MappingProxyType(dict(value))
        else:
            out[str(param)] = MappingProxyType({"default": value})
    return out


def _override_schema(
    cls: type[Strategy], changes: Mapping[str, Mapping[str, Any]], source: str
) -> tuple[Param, ...]:
    known = {p.name: p for p in cls.schema}
    for param in changes:
        if param not in known:
            raise unknown_key_error(param, known, where=f"{cls.name}.{param}", source=source)
    schema = []
    for p in cls.schema:
        if p.name not in changes:
            schema.append(p)
            continue
        merged = {**p.to_dict(), **changes[p.name]}
        del merged["name"]
        schema.append(
            parse_param(
                p.name, merged, where=f"{cls.name}.{p.name}", source=source, strategy=cls.name
            )
        )
    schema_tuple = tuple(schema)
    try:
        cls.check({p.name: p.default for p in schema_tuple})
    except ParameterError as exc:
        raise StrategyError(
            f"{source}: the new defaults of '{cls.name}' break its rules: {exc.message}",
            fix=exc.fix,
            file=source,
            field=cls.name,
        ) from None
    return schema_tuple
