"""``tradesweep backtest``: one backtest from the command line.

Every engine flag is optional and only the flags given are explicit settings: a declarative
strategy's own stop_loss / take_profit / trailing_stop / size / max_drawdown fill the rest
(see :mod:`tradesweep.services.backtest`). The engine flags, one per engine setting, come from
:mod:`tradesweep.cli.engine_options`. ``--json`` prints exactly one JSON object on stdout;
status lines ("wrote ...") always go to stderr. Heavy imports (the services, plotly) happen
inside the command so ``tradesweep --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradesweep.cli.engine_options import with_engine_options
from tradesweep.cli.tables import fit
from tradesweep.errors import ParameterError, TradesweepError
from tradesweep.reports.format import format_metric, format_time, metric_tone

if TYPE_CHECKING:
    import pandas as pd

    from tradesweep.environment import RuntimeSettings
    from tradesweep.services.backtest import BacktestReport
    from tradesweep.specs import BacktestSpec

_PARAM = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*\S)\s*$")
_INT = re.compile(r"^[+-]?\d+$")
_TONE_STYLE = {"gain": "green", "loss": "red"}
_RECENT_TRADES = 5

_OUTPUT = "Output"


PrintSpecOpt = Annotated[
    bool,
    typer.Option(
        "--print-spec",
        help="Print the spec as JSON and stop (post it as is to the API).",
        rich_help_panel=_OUTPUT,
    ),
]


ConventionOpt = Annotated[
    str,
    typer.Option(
        "--indicator-convention",
        help="How EMA, MACD, ATR and Bollinger are computed: pandas (default) or talib "
        "(TA-Lib's seeding and ddof); see docs/indicators.md.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("backtest")(with_engine_options(backtest))


def parse_params(items: list[str] | None) -> dict[str, int | float | str]:
    """``["fast=10", "slow=2e1"]`` -> ``{"fast": 10, "slow": 20.0}``; numbers become int or
    float, anything else stays text for the strategy's schema to refuse."""
    params: dict[str, int | float | str] = {}
    for item in items or []:
        match = _PARAM.match(item)
        if match is None:
            raise ParameterError(
                f"bad -p value {item!r}: expected NAME=VALUE",
                fix="write e.g. -p fast=10 -p slow=30",
                parameter=item,
            )
        params[match["name"]] = _number(match["value"])
    return params


def _number(text: str) -> int | float | str:
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def backtest(
    data: Annotated[
        str, typer.Option("--data", "-d", help="Registered ticker (GOOGL) or CSV/Parquet file.")
    ],
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy", "-s", help="Built-in name, declarative .yaml or plugin .py[:Class]."
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Strategy parameter NAME=VALUE (repeatable)."),
    ] = None,
    periods_per_year: Annotated[
        float | None,
        typer.Option(
            "--periods-per-year",
            help="Bars per year for annualising (default: inferred from the timestamps).",
        ),
    ] = None,
    risk_free: Annotated[
        float, typer.Option("--risk-free", help="Annual risk-free rate, a fraction (0.04 = 4 %).")
    ] = 0.0,
    plugins: Annotated[
        list[Path] | None,
        typer.Option(
            "--plugins",
            help="Plugin .py file or directory whose strategies --strategy may name (repeatable).",
        ),
    ] = None,
    indicator_convention: ConventionOpt = "pandas",
    print_spec: PrintSpecOpt = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object {metrics, trades, config}.",
            rich_help_panel=_OUTPUT,
        ),
    ] = False,
    trades_csv: Annotated[
        Path | None,
        typer.Option(
            "--trades-csv", help="Write the closed trades to FILE.", rich_help_panel=_OUTPUT
        ),
    ] = None,
    equity_csv: Annotated[
        Path | None,
        typer.Option(
            "--equity-csv",
            help="Write timestamp, equity, position, drawdown_pct per bar to FILE.",
            rich_help_panel=_OUTPUT,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write an offline HTML report to FILE.", rich_help_panel=_OUTPUT
        ),
    ] = None,
    *,
    settings: dict[str, Any],
) -> None:
    """Backtest one strategy on one dataset and print its metrics.

    Example: tradesweep backtest --data GOOGL --strategy sma_crossover -p fast=10 -p slow=30
    """
    from tradesweep.reports.csv_format import csv_frame
    from tradesweep.services.backtest import run_backtest_spec

    spec, runtime = spec_from_options(
        data, strategy, param, settings, periods_per_year, risk_free, indicator_convention, plugins
    )
    if print_spec:
        typer.echo(json.dumps(spec.to_dict(), allow_nan=False))
        return
    report = run_backtest_spec(spec, registry=runtime.registry(), plugins=runtime.strategy_plugins)

    if trades_csv is not None:
        write_output(trades_csv, lambda p: csv_frame(report.trades_frame()).to_csv(p, index=False))
    if equity_csv is not None:
        write_output(equity_csv, lambda p: csv_frame(report.equity_frame()).to_csv(p))
    if html is not None:
        from tradesweep.reports.html import write_html_report

        write_output(html, lambda p: write_html_report(report, p))

    if as_json:
        typer.echo(json.dumps(report.to_json(), allow_nan=False))
        return
    console = Console()
    print_metrics(console, report)
    print_trades_summary(console, report)


def print_metrics(console: Console, report: BacktestReport) -> None:
    """Every metric of ``report``, as wide as the terminal."""
    table = metrics_table(report.metrics, title=report.title(), initial_cash=report.settings.cash)
    console.print(fit(table, console.width))


def metrics_table(
    metrics: dict[str, Any], *, title: str, initial_cash: float | None = None
) -> Table:
    """A two-column rich table of every metric: label (with its unit) and value, gains in
    green and losses in red."""
    from tradesweep.metrics import KEYS, LABELS

    table = Table(title=title, show_header=True, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in KEYS:
        value = metrics.get(key)
        tone = metric_tone(key, value, initial_cash=initial_cash)
        style = _TONE_STYLE.get(tone or "", "dim" if value is None else "")
        table.add_row(Text(LABELS[key]), Text(format_metric(key, value), style=style))
    return table


class HasTrades(Protocol):
    """What :func:`print_trades_summary` reads: a backtest report or a paper session's."""

    def trades_frame(self) -> pd.DataFrame: ...


def print_trades_summary(
    console: Console, report: HasTrades, *, hint: str = "--trades-csv FILE has them"
) -> None:
    """Counts by side and exit reason, then the last few trades (``hint``: where a column
    left out for the terminal's width is found)."""
    trades = report.trades_frame()
    if trades.empty:
        console.print("no closed trades", style="dim")
        return
    sides = trades["side"].value_counts()
    reasons = trades["exit_reason"].value_counts()
    wins = int((trades["pnl"] > 0).sum())
    console.print(
        f"{len(trades)} trades ({sides.get('long', 0)} long, {sides.get('short', 0)} short; "
        f"{wins} won, {len(trades) - wins} lost or flat); exits: "
        + ", ".join(f"{reason} {count}" for reason, count in reasons.items()),
        highlight=False,
    )
    table = Table(title=f"last {min(_RECENT_TRADES, len(trades))} trades", title_justify="left")
    for header in ("side", "entry", "exit", "entry price", "exit price", "pnl [%]", "reason"):
        right = "price" in header or "pnl" in header
        table.add_column(Text(header), justify="right" if right else "left", no_wrap=True)
    for row in trades.tail(_RECENT_TRADES).itertuples():
        tone = "green" if row.pnl > 0 else "red" if row.pnl < 0 else ""
        table.add_row(
            row.side,
            format_time(row.entry_time),
            format_time(row.exit_time),
            f"{row.entry_price:,.2f}",
            f"{row.exit_price:,.2f}",
            Text(f"{row.pnl_pct:+.2f}", style=tone),
            row.exit_reason,
        )
    console.print(fit(table, console.width, drop=("reason", "side"), hint=hint))


def write_output(path: Path, write: Callable[[Path], Any]) -> None:
    """Run ``write(path)``, creating parent folders; an unwritable path is a user error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
    except OSError as exc:
        raise TradesweepError(
            f"cannot write {path}: {exc.strerror or exc}",
            fix="choose a writable path",
            file=str(path),
        ) from None
    typer.echo(f"wrote {path}", err=True)


def spec_from_options(
    data: str,
    strategy: str,
    param: list[str] | None,
    settings: dict[str, Any],
    periods_per_year: float | None,
    risk_free: float,
    indicator_convention: str,
    plugins: list[Path] | None = None,
) -> tuple[BacktestSpec, RuntimeSettings]:
    """The spec of a command's backtest options (``backtest``, ``paper run``), recording the
    environment's strategy defaults, and the runtime settings read from the environment."""
    from tradesweep.engine import EngineSettings
    from tradesweep.environment import RuntimeSettings
    from tradesweep.errors import SettingsError
    from tradesweep.specs import BacktestSpec
    from tradesweep.strategies.defaults import resolve_defaults

    size_type = settings.get("size_type")
    if size_type in ("cash", "units") and "size" not in settings:
        raise SettingsError(
            f"--size-type {size_type} needs --size (the {size_type} per entry)",
            fix=f"add e.g. --size {'2000' if size_type == 'cash' else '10'}",
            setting="size",
        )
    runtime = RuntimeSettings.from_environ(os.environ)
    spec = BacktestSpec(
        data=data,
        strategy=strategy,
        params=parse_params(param),
        settings=EngineSettings.from_dict(settings),
        explicit_settings=frozenset(settings),
        periods_per_year=periods_per_year,
        risk_free_rate=risk_free,
        plugins=tuple(str(p) for p in plugins or ()),
        indicator_convention=indicator_convention,  # type: ignore[arg-type]  # checked by the spec
    ).with_defaults(resolve_defaults(runtime.strategy_defaults))
    return spec, runtime
