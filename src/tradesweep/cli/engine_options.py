"""The engine-setting options of ``tradesweep backtest``, ``sweep`` and ``walkforward``.

One option per :class:`~tradesweep.engine.EngineSettings` field, generated from the field's
type, default and ``metadata["help"]``, so a new setting is an option of all three commands
at once. Every option defaults to "not given": only the options given become settings (the
*explicit* settings that override a YAML strategy's own or a sweep preset's).

- a number (``cash``, ``stop_loss``, ...): ``--cash FLOAT``, named after the field;
- a choice (``fill``, ...): ``--fill [next_open|close]``; the value is checked by
  :class:`EngineSettings`, whose error names the setting and its choices;
- a switch (``fractional``, ``close_at_end``): one flag that sets the field to the opposite of
  its default, ``--whole-units`` and ``--keep-open`` (:data:`_SWITCHES`; a new switch gets
  ``--no-NAME`` or ``--NAME``).

Typer reads a command's options from its function's signature and has no other public way
to add shared options (fastapi/typer#153), so :func:`with_engine_options` returns a new
function whose signature is the command's own parameters followed by the generated options;
the command itself stays as written and receives the given settings as ``settings``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import typer

from tradesweep.engine.settings import EngineSettings

ENGINE_PANEL = "Engine settings (only the flags given override a YAML strategy's own)"

_SWITCHES: dict[str, tuple[str, str]] = {
    "fractional": ("--whole-units", "Trade whole units only (no fractions)."),
    "close_at_end": (
        "--keep-open",
        "Leave the last position open instead of closing it on the last bar.",
    ),
}
"""Switch settings whose flag is not ``--no-NAME`` / ``--NAME``: flag and its help."""

_R = TypeVar("_R")


@dataclass(frozen=True)
class EngineOption:
    """The command-line option of one engine setting."""

    setting: str  # the EngineSettings field
    parameter: str  # the command's parameter name (click's ctx.params key)
    flag: str  # "--stop-loss", "--whole-units"
    annotation: Any  # the typer annotation of the parameter
    switch_to: bool | None  # a switch: the value the flag sets; None: the option's value

    def signature_parameter(self) -> inspect.Parameter:
        default = False if self.switch_to is not None else None
        return inspect.Parameter(
            self.parameter,
            inspect.Parameter.KEYWORD_ONLY,
            default=default,
            annotation=self.annotation,
        )

    def setting_value(self, value: Any) -> tuple[bool, Any]:
        """(given, the setting's value) for the option's parsed ``value``."""
        if self.switch_to is not None:
            return bool(value), self.switch_to
        return value is not None, value


def _option(field: dataclasses.Field[Any], hint: Any) -> EngineOption:
    name = field.name
    help_text = field.metadata.get("help")
    if not help_text:
        raise RuntimeError(f"EngineSettings.{name} has no metadata['help'] for its option")
    dashed = name.replace("_", "-")
    if hint is bool:
        switch_to = not field.default
        generic = (
            f"--{dashed}" if switch_to else f"--no-{dashed}",
            f"Set {name} to {str(switch_to).lower()}. {help_text}",
        )
        flag, help_text = _SWITCHES.get(name, generic)
        option = typer.Option(flag, help=help_text, rich_help_panel=ENGINE_PANEL)
        parameter = flag.removeprefix("--").replace("-", "_")
        return EngineOption(name, parameter, flag, Annotated[bool, option], switch_to)
    flag = f"--{dashed}"
    if typing.get_origin(hint) is Literal:
        choices = "|".join(str(c) for c in typing.get_args(hint))
        option = typer.Option(
            flag, help=help_text, metavar=f"[{choices}]", rich_help_panel=ENGINE_PANEL
        )
        return EngineOption(name, name, flag, Annotated[str | None, option], None)
    kinds = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    if len(kinds) != 1 or kinds[0] not in (int, float):
        raise RuntimeError(f"EngineSettings.{name}: no command-line option for type {hint!r}")
    option = typer.Option(flag, help=help_text, rich_help_panel=ENGINE_PANEL)
    return EngineOption(name, name, flag, Annotated[kinds[0] | None, option], None)


def _options() -> tuple[EngineOption, ...]:
    hints = typing.get_type_hints(EngineSettings)
    return tuple(_option(f, hints[f.name]) for f in dataclasses.fields(EngineSettings))


ENGINE_OPTIONS: tuple[EngineOption, ...] = _options()
"""One option per EngineSettings field, in field order."""


def given_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the parsed engine options give, keyed by setting (``values`` is keyed by
    parameter name, as click's ``ctx.params``); options not given give nothing."""
    settings: dict[str, Any] = {}
    for option in ENGINE_OPTIONS:
        given, value = option.setting_value(values.get(option.parameter))
        if given:
            settings[option.setting] = value
    return settings


def with_engine_options(command: Callable[..., _R]) -> Callable[..., _R]:
    """A typer command taking ``command``'s own options plus one per engine setting.

    ``command`` takes a keyword ``settings``: the settings given on the command line
    (:func:`given_settings`), never an option itself.
    """
    own = inspect.signature(command, eval_str=True)
    if "settings" not in own.parameters:
        raise TypeError(f"{command.__name__} must take a 'settings' keyword")
    params = [p for name, p in own.parameters.items() if name != "settings"]
    clash = {p.name for p in params} & {o.parameter for o in ENGINE_OPTIONS}
    if clash:
        raise TypeError(f"{command.__name__} already has engine option(s) {sorted(clash)}")

    def run(**values: Any) -> _R:
        engine = {o.parameter: values.pop(o.parameter, None) for o in ENGINE_OPTIONS}
        return command(**values, settings=given_settings(engine))

    run.__name__ = command.__name__
    run.__qualname__ = command.__qualname__
    run.__module__ = command.__module__
    run.__doc__ = command.__doc__
    run.__signature__ = own.replace(  # type: ignore[attr-defined]
        parameters=[*params, *(o.signature_parameter() for o in ENGINE_OPTIONS)]
    )
    return run
