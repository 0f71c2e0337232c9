"""``tradesweep strategies list|show``: the strategy library, as tables or JSON.

``NAME`` may be a built-in name, a declarative ``.yaml`` file or a plugin (``.py`` file,
directory, ``file.py:ClassName``). ``--plugins`` adds plugin strategies to the list (and makes
their names resolvable); ``--defaults`` applies a user defaults file. Without them the
``TRADESWEEP_STRATEGY_PLUGINS`` / ``TRADESWEEP_STRATEGY_DEFAULTS`` environment variables apply,
read by each command when it starts (:mod:`tradesweep.environment`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradesweep.cli.tables import fit
from tradesweep.environment import RuntimeSettings
from tradesweep.strategies import strategy_class, strategy_classes

app = typer.Typer(no_args_is_help=True, help="The strategy library: list, show.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PluginsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--plugins",
        help="Plugin .py file or directory to load (repeatable; default: "
        "$TRADESWEEP_STRATEGY_PLUGINS).",
    ),
]
DefaultsOpt = Annotated[
    Path | None,
    typer.Option(
        "--defaults",
        help="YAML file (or directory) overriding built-in defaults (default: "
        "$TRADESWEEP_STRATEGY_DEFAULTS).",
    ),
]


def _or_environment(
    plugins: list[Path] | None, defaults: Path | None
) -> tuple[list[str | Path], Path | None]:
    """The options given, else the environment's values (read now, once per command)."""
    runtime = RuntimeSettings.from_environ(os.environ)
    return runtime.plugins_or(plugins), defaults or runtime.strategy_defaults


def summary(description: str) -> str:
    """The first sentence of a description."""
    head, dot, _ = description.partition(". ")
    return head + ("." if dot else "")


def _number(value: Any) -> str:
    return str(value)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, allow_nan=False))


@app.command("list")
def list_command(
    as_json: JsonOpt = False, plugins: PluginsOpt = None, defaults: DefaultsOpt = None
) -> None:
    """List every strategy: name, parameters with defaults, one-line description."""
    plugins_, defaults_ = _or_environment(plugins, defaults)
    classes = strategy_classes(plugins=plugins_, defaults=defaults_)
    described = [cls.describe() for cls in classes.values()]
    if as_json:
        _print_json(described)
        return
    table = Table(title="Strategies", show_lines=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("parameters (defaults)")
    table.add_column("description")
    for info in described:
        params = ", ".join(f"{p['name']}={_number(p['default'])}" for p in info["parameters"])
        table.add_row(Text(info["name"]), Text(params or "-"), Text(summary(info["description"])))
    console = Console()
    console.print(fit(table, console.width))


@app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Built-in name, declarative .yaml or plugin .py.")],
    as_json: JsonOpt = False,
    plugins: PluginsOpt = None,
    defaults: DefaultsOpt = None,
) -> None:
    """Show one strategy: parameters, bounds, warm-up and what it does."""
    plugins_, defaults_ = _or_environment(plugins, defaults)
    info = strategy_class(name, plugins=plugins_, defaults=defaults_).describe()
    if as_json:
        _print_json(info)
        return
    console = Console()
    console.print(Text(info["name"], style="bold"))
    console.print(info["description"] or "(no description)", highlight=False)
    console.print(f"warm-up: {info['warmup_period']} bars before the first possible signal")
    if "source" in info:
        console.print(f"source: {info['source']}", highlight=False)
    table = Table(title="parameters")
    for column in ("name", "type", "default", "bounds", "description"):
        table.add_column(column, no_wrap=column != "description")
    for p in info["parameters"]:
        bounds = f"[{_number(p['min'])}, {_number(p['max'])}]"
        cells = (p["name"], p["type"], _number(p["default"]), bounds, p["description"])
        table.add_row(*(Text(c) for c in cells))
    console.print(fit(table, console.width))
    execution = info.get("execution")
    if execution:
        settings = ", ".join(f"{k}={_number(v)}" for k, v in execution.items())
        console.print(f"execution: {settings}", highlight=False)
