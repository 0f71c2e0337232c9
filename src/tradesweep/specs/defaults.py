"""The strategy defaults a spec records.

A defaults override (``tradesweep.strategies.defaults``) changes a built-in strategy's
parameter defaults and bounds, so it changes what a spec computes. The code that builds a
spec from a user's request (the CLI, the API's services) resolves the override once and
records the entries that concern the spec's strategy in the spec's ``defaults`` field
(``spec.with_defaults(override)``); the run applies exactly those and never reads the
environment again. The field is left out of ``to_dict`` when empty, so the id of a spec
without an override is the id it always had, and two overrides that differ give two ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradesweep.errors import TradesweepError
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.strategies.defaults import OVERRIDE_KEYS, DefaultsOverride

SOURCE = "spec field 'defaults'"
"""Where messages about a recorded override say it came from."""


def check_defaults(
    value: Any, strategy: str, error: type[TradesweepError]
) -> dict[str, dict[str, Any]]:
    """``value`` as ``{param: {"default"|"min"|"max"|"description": value}}`` with sorted
    keys (a bare value means its ``default``), checked against the built-in ``strategy``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise error(
            f"spec field 'defaults' must map parameter names to new defaults, got {value!r}",
            fix='e.g. "defaults": {"fast": {"default": 20}}',
            field="defaults",
        )
    out: dict[str, dict[str, Any]] = {}
    for param, fields in value.items():
        if not isinstance(fields, Mapping):
            fields = {"default": fields}
        for key in fields:
            if key not in OVERRIDE_KEYS:
                raise error(
                    f"spec field 'defaults.{param}' has unknown key '{key}'",
                    fix=f"use {', '.join(OVERRIDE_KEYS)}",
                    field="defaults",
                )
        out[str(param)] = dict(sorted(fields.items()))
    if out and strategy not in BUILTINS:
        raise error(
            f"spec field 'defaults' only applies to a built-in strategy, not '{strategy}'",
            fix="leave defaults out, or change the defaults in the strategy file itself",
            field="defaults",
        )
    if out:
        override_of(strategy, out).apply(BUILTINS[strategy])  # bounds and cross rules, now
    return dict(sorted(out.items()))


def override_of(strategy: str, defaults: Mapping[str, Mapping[str, Any]]) -> DefaultsOverride:
    """The override a run applies: exactly the recorded one (none when ``defaults`` is
    empty), never the environment's."""
    return DefaultsOverride.of(strategy, defaults, SOURCE)


def defaults_field(defaults: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``{"defaults": ...}`` for ``to_dict`` when some are recorded, else ``{}`` (so the id of
    a spec without them is unchanged)."""
    return {"defaults": {k: dict(v) for k, v in defaults.items()}} if defaults else {}
