"""Settings presets: named bundles of engine and metric settings for sweeps.

A preset is a flat YAML mapping of :class:`~tradesweep.engine.EngineSettings` fields plus
``risk_free_rate``, ``periods_per_year`` and ``min_trades`` (and an optional
``description``). The built-ins live in ``tradesweep/sweep/presets/*.yaml``: ``minimum`` (no
costs: raw signal quality) and ``standard`` (realistic costs). A preset only supplies
defaults: whatever a spec or a CLI flag sets explicitly wins (docs/sweeps.md, "Presets").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tradesweep.engine import EngineSettings
from tradesweep.errors import TradesweepError, did_you_mean

ENGINE_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(EngineSettings))
SPEC_KEYS: tuple[str, ...] = ("risk_free_rate", "periods_per_year", "min_trades")
"""Sweep spec fields a preset may set besides the engine settings."""
PRESET_KEYS: tuple[str, ...] = ("description", *ENGINE_KEYS, *SPEC_KEYS)


class PresetError(TradesweepError):
    """A preset that does not exist, cannot be read or holds an unknown or invalid key."""

    code = "invalid_preset"


@dataclass(frozen=True)
class Preset:
    """One preset: ``settings`` are the engine settings it sets, ``spec_fields`` the sweep
    fields (``risk_free_rate``, ``periods_per_year``, ``min_trades``) it sets."""

    name: str
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    spec_fields: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""


def builtin_presets() -> list[str]:
    """Names of the packaged presets, sorted."""
    folder = resources.files("tradesweep.sweep") / "presets"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def is_preset_file(name_or_path: str | Path) -> bool:
    text = str(name_or_path)
    return isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text


def load_preset(name_or_path: str | Path) -> Preset:
    """A built-in preset by name, or a user preset from a ``.yaml`` file.

    Raises :class:`PresetError` for an unknown name (with a did-you-mean), a missing or
    unreadable file, YAML that is not a mapping, an unknown key (naming the file and the key,
    with a did-you-mean) or a value the engine or the sweep would refuse."""
    if is_preset_file(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise PresetError(
                f"preset file {path} does not exist",
                fix="check the path, or give a built-in preset: " + ", ".join(builtin_presets()),
                file=str(path),
            )
        return parse_preset(_read(path), name=path.stem, source=str(path))
    name = str(name_or_path)
    known = builtin_presets()
    if name not in known:
        hint = did_you_mean(name, known)
        raise PresetError(
            f"unknown preset '{name}'",
            fix=f"{hint}built-in presets: {', '.join(known)}; or give a .yaml file",
            preset=name,
        )
    resource = resources.files("tradesweep.sweep") / "presets" / f"{name}.yaml"
    return parse_preset(_parse(resource.read_text(encoding="utf-8"), name), name=name, source=name)


def parse_preset(data: Any, *, name: str, source: str) -> Preset:
    """Validate the mapping read from a preset file (see :func:`load_preset`)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise PresetError(
            f"preset {source} must be a mapping of setting: value, got {type(data).__name__}",
            fix="write e.g. 'fees: 0.001' on its own line",
            file=source,
        )
    for key in data:
        if key not in PRESET_KEYS:
            raise PresetError(
                f"preset {source}: unknown key '{key}'",
                fix=f"{did_you_mean(key, PRESET_KEYS)}valid keys: {', '.join(PRESET_KEYS)}",
                file=source,
                key=str(key),
            )
    settings = {k: v for k, v in data.items() if k in ENGINE_KEYS}
    try:
        EngineSettings.from_dict(settings)
    except TradesweepError as exc:
        raise PresetError(f"preset {source}: {exc.message}", fix=exc.fix, file=source) from None
    spec_fields = {k: data[k] for k in SPEC_KEYS if k in data}
    _check_spec_fields(spec_fields, source)
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise PresetError(f"preset {source}: description must be text", fix="quote it", file=source)
    return Preset(name, description.strip(), settings, spec_fields, source)


def _check_spec_fields(values: Mapping[str, Any], source: str) -> None:
    def bad(key: str, need: str, example: str) -> PresetError:
        return PresetError(
            f"preset {source}: {key} is {values[key]!r}; it must be {need}",
            fix=f"e.g. '{key}: {example}'",
            file=source,
            key=key,
        )

    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    if "min_trades" in values:
        v = values["min_trades"]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise bad("min_trades", "a whole number >= 0", "20")
    if "risk_free_rate" in values:
        v = values["risk_free_rate"]
        if not (number(v) and v > -1):
            raise bad("risk_free_rate", "an annual fraction above -1", "0.04")
    if "periods_per_year" in values:
        v = values["periods_per_year"]
        if v is not None and not (number(v) and v > 0):
            raise bad("periods_per_year", "a positive number or null (infer)", "252")


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PresetError(
            f"cannot read preset {path}: {exc.strerror or exc}",
            fix="check the path",
            file=str(path),
        ) from None
    return _parse(text, str(path))


def _parse(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark is not None else source
        raise PresetError(
            f"preset {where}: not valid YAML: {getattr(exc, 'problem', None) or exc}",
            fix="fix the YAML syntax (one 'key: value' per line)",
            file=source,
        ) from None
