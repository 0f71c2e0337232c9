"""``tradesweep sweep`` and ``tradesweep walkforward``.

The engine flags (``--fees``, ``--slippage``, ``--fill``, stops, ...) are those of
``tradesweep backtest``: one per engine setting, from :mod:`tradesweep.cli.engine_options`.
A flag given on the command line overrides the
``--preset``; the preset fills the rest. ``--json`` prints exactly one JSON object on stdout;
the progress bar (only when stderr is a terminal) and "wrote FILE" lines go to stderr. Heavy
imports (numba kernels, optuna, plotly) happen inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradesweep.cli import backtest as backtest_cli
from tradesweep.cli.aliases import merged, required
from tradesweep.cli.engine_options import with_engine_options
from tradesweep.cli.tables import JSON_HINT, fit
from tradesweep.errors import ParameterError
from tradesweep.metrics.names import OBJECTIVES, keys_shown_in
from tradesweep.reports.format import format_metric

if TYPE_CHECKING:
    from tradesweep.sweep.progress import ProgressInfo
    from tradesweep.sweep.runner import SweepResult
    from tradesweep.sweep.walkforward import WalkForwardResult

_SEARCH = "Search and ranking"
_OUTPUT = "Output"
_TABLE_METRICS = keys_shown_in("sweep_summary")

DataOpt = Annotated[
    str, typer.Option("--data", "-d", help="Registered ticker (GOOGL) or CSV/Parquet file.")
]
StrategyOpt = Annotated[
    str,
    typer.Option(
        "--strategy", "-s", help="Built-in name, declarative .yaml or plugin .py[:Class]."
    ),
]
RangeOpt = Annotated[
    list[str],
    typer.Option(
        "--range",
        "-r",
        help="Parameter range NAME=MIN:MAX:STEP, NAME=V1,V2,... or NAME=V (repeatable). "
        "NAME may also be an engine setting: stop_loss, stop_loss_atr, take_profit, "
        "take_profit_atr, trailing_stop, trailing_stop_atr, size, max_drawdown.",
    ),
]
ConstraintOpt = Annotated[
    str | None,
    typer.Option(help='Extra rule over the parameters, e.g. "slow >= 2*fast".', show_default=False),
]
SearchOpt = Annotated[
    str,
    typer.Option(help="grid (every valid combination), random or bayes.", rich_help_panel=_SEARCH),
]
TrialsOpt = Annotated[
    int | None,
    typer.Option(
        help="Combinations a random or bayes search evaluates (default 100).",
        rich_help_panel=_SEARCH,
    ),
]
SeedOpt = Annotated[
    int, typer.Option(help="Seed of random and bayes search.", rich_help_panel=_SEARCH)
]
MinTradesOpt = Annotated[
    int | None,
    typer.Option(
        "--min-trades",
        help="Rows with fewer trades are kept but not ranked (default 1, or the preset's).",
        rich_help_panel=_SEARCH,
    ),
]
ObjectiveOpt = Annotated[
    str,
    typer.Option(
        help="What ranks the results: " + ", ".join(OBJECTIVES) + ".",
        rich_help_panel=_SEARCH,
    ),
]
PresetOpt = Annotated[
    str | None,
    typer.Option(
        help="Settings preset: minimum, standard or a .yaml file; flags given override it.",
        show_default=False,
    ),
]
MaxCombinationsOpt = Annotated[
    int,
    typer.Option(
        "--max-combinations", help="Refuse a grid larger than this.", rich_help_panel=_SEARCH
    ),
]
PeriodsOpt = Annotated[
    float | None,
    typer.Option(
        "--periods-per-year",
        help="Bars per year for annualising (default: inferred from the timestamps).",
    ),
]
RiskFreeOpt = Annotated[
    float | None,
    typer.Option(
        "--risk-free", help="Annual risk-free rate, a fraction (default 0, or the preset's)."
    ),
]
PluginsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--plugins", help="Plugin .py file or directory whose strategies --strategy may name."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--compute-workers",
        min=1,
        help="Threads or processes for the evaluation (default: every core).",
        show_default=False,
    ),
]
OldWorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, hidden=True, help="Old name of --compute-workers."),
]
NoProgressOpt = Annotated[
    bool, typer.Option("--no-progress", help="No progress bar on stderr.", rich_help_panel=_OUTPUT)
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout.", rich_help_panel=_OUTPUT)
]
HtmlOpt = Annotated[
    Path | None,
    typer.Option("--html", help="Write an offline HTML report to FILE.", rich_help_panel=_OUTPUT),
]


def register(app: typer.Typer) -> None:
    app.command("sweep")(with_engine_options(sweep))
    app.command("walkforward")(with_engine_options(walkforward))


def _spec_dict(
    *,
    data: str,
    strategy: str,
    ranges: list[str],
    constraint: str | None,
    search: str,
    trials: int | None,
    seed: int,
    min_trades: int | None,
    objective: str,
    top: int,
    preset: str | None,
    max_combinations: int,
    periods_per_year: float | None,
    risk_free: float | None,
    plugins: list[Path] | None,
    indicator_convention: str,
    settings: dict[str, Any],
) -> dict[str, Any]:
    return {
        "data": data,
        "strategy": strategy,
        "ranges": ranges,
        "constraint": constraint,
        "search": search,
        "trials": trials,
        "seed": seed,
        "min_trades": min_trades,
        "objective": objective,
        "top": top,
        "preset": preset,
        "max_combinations": max_combinations,
        "periods_per_year": periods_per_year,
        "risk_free_rate": risk_free,
        "plugins": [str(p) for p in plugins or ()],
        "indicator_convention": indicator_convention,
        "settings": settings,
    }


def _environment() -> tuple[Any, dict[str, Any]]:
    """The environment, read now (once per command; the core never reads it): the strategy
    defaults override the spec records, and the registry and plugins the run resolves with."""
    from tradesweep.environment import RuntimeSettings
    from tradesweep.strategies.defaults import resolve_defaults

    runtime = RuntimeSettings.from_environ(os.environ)
    where = {"registry": runtime.registry(), "plugins": runtime.strategy_plugins}
    return resolve_defaults(runtime.strategy_defaults), where


def sweep(
    data: DataOpt,
    strategy: StrategyOpt,
    range_: RangeOpt,
    constraint: ConstraintOpt = None,
    search: SearchOpt = "grid",
    trials: TrialsOpt = None,
    seed: SeedOpt = 0,
    min_trades: MinTradesOpt = None,
    objective: ObjectiveOpt = "score",
    top: Annotated[
        int, typer.Option(help="Ranked rows to show / put in the JSON.", rich_help_panel=_OUTPUT)
    ] = 10,
    preset: PresetOpt = None,
    max_combinations: MaxCombinationsOpt = 1_000_000,
    periods_per_year: PeriodsOpt = None,
    risk_free: RiskFreeOpt = None,
    plugins: PluginsOpt = None,
    indicator_convention: backtest_cli.ConventionOpt = "pandas",
    compute_workers: WorkersOpt = None,
    old_workers: OldWorkersOpt = None,
    no_progress: NoProgressOpt = False,
    print_spec: backtest_cli.PrintSpecOpt = False,
    as_json: JsonOpt = False,
    csv: Annotated[
        Path | None,
        typer.Option("--csv", help="Write every evaluated row to FILE.", rich_help_panel=_OUTPUT),
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option(
            "--parquet", help="Write every evaluated row to FILE.", rich_help_panel=_OUTPUT
        ),
    ] = None,
    html: HtmlOpt = None,
    heatmap: Annotated[
        str | None,
        typer.Option(
            help="Two swept parameters for the HTML heatmap, e.g. fast,slow "
            "(default: the first two).",
            rich_help_panel=_OUTPUT,
            show_default=False,
        ),
    ] = None,
    *,
    settings: dict[str, Any],
) -> None:
    """Backtest every combination of parameter ranges, rank them and judge the winner.

    Example: tradesweep sweep --data GOOGL --strategy sma_crossover --range fast=5:50:5
    --range slow=20:200:10 --constraint "slow >= 2*fast" --preset standard

    Risk and sizing settings sweep too: --range stop_loss=0.01:0.05:0.01
    --range take_profit=0.02,0.04,0.06 (each row names its values).
    """
    from tradesweep.specs import SweepSpec
    from tradesweep.sweep.runner import run_sweep

    defaults, where = _environment()

    spec = SweepSpec.from_dict(
        _spec_dict(
            data=data,
            strategy=strategy,
            ranges=range_,
            constraint=constraint,
            search=search,
            trials=trials,
            seed=seed,
            min_trades=min_trades,
            objective=objective,
            top=top,
            preset=preset,
            max_combinations=max_combinations,
            periods_per_year=periods_per_year,
            risk_free=risk_free,
            plugins=plugins,
            indicator_convention=indicator_convention,
            settings=settings,
        )
    ).with_defaults(defaults)
    workers = _workers(compute_workers, old_workers)
    if print_spec:
        typer.echo(json.dumps(spec.to_dict(), allow_nan=False))
        return
    axes = _heatmap_axes(heatmap)
    with _progress_bar(enabled=not no_progress, label="sweep") as progress:
        result = run_sweep(spec, progress=progress, workers=workers, **where)

    if csv is not None:
        from tradesweep.reports.csv_format import csv_frame

        table = csv_frame(result.results)
        backtest_cli.write_output(csv, lambda p: table.to_csv(p, index=False))
    if parquet is not None:
        backtest_cli.write_output(parquet, lambda p: result.results.to_parquet(p, index=False))
    if html is not None:
        from tradesweep.reports.sweep_html import write_sweep_html

        backtest_cli.write_output(html, lambda p: write_sweep_html(result, p, heatmap=axes))
    if as_json:
        typer.echo(json.dumps(result.to_json(), allow_nan=False))
        return
    print_sweep(Console(), result)


def walkforward(
    data: DataOpt,
    strategy: StrategyOpt,
    range_: RangeOpt,
    train_bars: Annotated[
        int | None,
        typer.Option(
            "--train-bars", help="Bars in each training window (required).", show_default=False
        ),
    ] = None,
    test_bars: Annotated[
        int | None,
        typer.Option(
            "--test-bars", help="Bars in each test window (required).", show_default=False
        ),
    ] = None,
    step_bars: Annotated[
        int | None,
        typer.Option(
            "--step-bars",
            help="Bars between test windows (default --test-bars).",
            show_default=False,
        ),
    ] = None,
    train: Annotated[int | None, typer.Option(hidden=True, help="Old --train-bars.")] = None,
    test: Annotated[int | None, typer.Option(hidden=True, help="Old --test-bars.")] = None,
    step: Annotated[int | None, typer.Option(hidden=True, help="Old --step-bars.")] = None,
    anchored: Annotated[
        bool, typer.Option(help="Training windows all start at the first bar and grow.")
    ] = False,
    constraint: ConstraintOpt = None,
    search: SearchOpt = "grid",
    trials: TrialsOpt = None,
    seed: SeedOpt = 0,
    min_trades: MinTradesOpt = None,
    objective: ObjectiveOpt = "score",
    preset: PresetOpt = None,
    max_combinations: MaxCombinationsOpt = 1_000_000,
    periods_per_year: PeriodsOpt = None,
    risk_free: RiskFreeOpt = None,
    plugins: PluginsOpt = None,
    indicator_convention: backtest_cli.ConventionOpt = "pandas",
    compute_workers: WorkersOpt = None,
    old_workers: OldWorkersOpt = None,
    no_progress: NoProgressOpt = False,
    print_spec: backtest_cli.PrintSpecOpt = False,
    as_json: JsonOpt = False,
    equity_csv: Annotated[
        Path | None,
        typer.Option(
            "--equity-csv",
            help="Write the stitched out-of-sample equity per bar to FILE.",
            rich_help_panel=_OUTPUT,
        ),
    ] = None,
    html: HtmlOpt = None,
    *,
    settings: dict[str, Any],
) -> None:
    """Optimise on rolling (or anchored) training windows, trade each winner on the next test
    window, and report the stitched out-of-sample result.

    Example: tradesweep walkforward --data GOOGL --strategy sma_crossover --range fast=5:50:5
    --range slow=20:200:10 --train-bars 500 --test-bars 100
    """
    from tradesweep.specs import WalkForwardSpec
    from tradesweep.sweep.walkforward import run_walkforward

    defaults, where = _environment()

    values = _spec_dict(
        data=data,
        strategy=strategy,
        ranges=range_,
        constraint=constraint,
        search=search,
        trials=trials,
        seed=seed,
        min_trades=min_trades,
        objective=objective,
        top=1,
        preset=preset,
        max_combinations=max_combinations,
        periods_per_year=periods_per_year,
        risk_free=risk_free,
        plugins=plugins,
        indicator_convention=indicator_convention,
        settings=settings,
    )
    windows = {
        "train_bars": required(
            merged(train_bars, train, flag="--train-bars", old_flag="--train"),
            flag="--train-bars",
        ),
        "test_bars": required(
            merged(test_bars, test, flag="--test-bars", old_flag="--test"), flag="--test-bars"
        ),
        "step_bars": merged(step_bars, step, flag="--step-bars", old_flag="--step"),
    }
    spec = WalkForwardSpec.from_dict({**values, **windows, "anchored": anchored}).with_defaults(
        defaults
    )
    workers = _workers(compute_workers, old_workers)
    if print_spec:
        typer.echo(json.dumps(spec.to_dict(), allow_nan=False))
        return
    with _progress_bar(enabled=not no_progress, label="walk-forward") as progress:
        result = run_walkforward(spec, progress=progress, workers=workers, **where)

    if equity_csv is not None:
        from tradesweep.reports.csv_format import csv_frame

        frame = csv_frame(result.equity.to_frame().assign(position=result.position))
        backtest_cli.write_output(equity_csv, lambda p: frame.to_csv(p))
    if html is not None:
        from tradesweep.reports.sweep_html import write_walkforward_html

        backtest_cli.write_output(html, lambda p: write_walkforward_html(result, p))
    if as_json:
        typer.echo(json.dumps(result.to_json(), allow_nan=False))
        return
    print_walkforward(Console(), result)


# ---- output -------------------------------------------------------------------------------


def print_sweep(console: Console, result: SweepResult) -> None:
    """Header, the top ranked rows and the winner's diagnostics."""
    spec = result.spec
    valid = "?" if result.valid_combinations is None else f"{result.valid_combinations:,}"
    console.print(
        f"[bold]{spec.data} · {spec.strategy}[/bold] · {spec.search} search: "
        f"{result.grid_combinations:,} combinations, {valid} valid, {result.evaluated:,} "
        f"evaluated in {result.elapsed_seconds:.2f} s ({result.path})",
        highlight=False,
    )
    metrics = [m for m in _TABLE_METRICS if m not in ("score", spec.objective)]
    drop = [_label(m) for m in reversed(metrics)]  # the objective and the score stay
    console.print(fit(_results_table(result), console.width, drop=drop, hint=JSON_HINT))
    unranked = len(result.results) - len(result.ranked)
    if unranked:
        console.print(
            f"{unranked:,} combinations not ranked ({result.unranked_reason})",
            style="dim",
        )
    console.print(fit(_diagnostics_table(result.diagnostics_dict()), console.width))
    _print_warnings(console, result.warnings)


def _results_table(result: SweepResult) -> Table:
    spec = result.spec
    table = Table(title=f"top {spec.top} by {spec.objective}", title_justify="left")
    table.add_column("rank", justify="right")
    shown = list(result.swept or result.params)
    for name in shown:
        table.add_column(name, justify="right")
    metrics = [m for m in _TABLE_METRICS if m != spec.objective]
    columns = ["score", *([spec.objective] if spec.objective != "score" else []), *metrics]
    for name in columns:
        table.add_column(_label(name), justify="right")
    for row in result.rows(spec.top):
        values = {"score": row["score"], **row["metrics"]}
        cells = [str(row["rank"]), *(f"{row['params'][n]:g}" for n in shown)]
        cells += [format_metric(name, values.get(name)) for name in columns]
        table.add_row(*cells)
    return table


def _diagnostics_table(diagnostics: dict[str, Any]) -> Table:
    table = Table(title="is the winner real?", title_justify="left", show_header=False)
    table.add_column("diagnostic")
    table.add_column("value", justify="right")
    table.add_column("meaning")
    dsr = diagnostics["deflated_sharpe"]
    stability = diagnostics["stability"]
    pbo = diagnostics["pbo"]
    rows = (
        ("Deflated Sharpe", dsr, "dsr",
         lambda: f"P(true Sharpe > best of {dsr['n_trials']} by luck)"),
        ("Stability", stability, "ratio",
         lambda: f"neighbour mean / winner over {len(stability['neighbours'])} neighbours "
         "(1 = plateau, << 1 = spike)"),
        ("PBO", pbo, "pbo",
         lambda: f"share of {pbo['n_splits']:,} CSCV splits where the in-sample best is below "
         "the out-of-sample median (0.5 = noise)"),
    )  # fmt: skip
    for label, part, key, meaning in rows:
        value = part.get(key)
        if value is None:  # not computed: say why, dimmed
            table.add_row(label, _num(value), Text(part.get("reason") or "", style="dim"))
        else:
            table.add_row(label, _num(value), Text(meaning()))
    return table


def print_walkforward(console: Console, result: WalkForwardResult) -> None:
    """One row per window, then the stitched out-of-sample metrics and the efficiency."""
    spec = result.spec
    kind = "anchored" if spec.anchored else "rolling"
    console.print(
        f"[bold]{spec.sweep.data} · {spec.sweep.strategy}[/bold] · {kind} walk-forward: "
        f"{len(result.windows)} windows of {spec.train_bars:,} training / {spec.test_bars:,} "
        f"test bars (step {spec.step_bars:,}) in {result.elapsed_seconds:.2f} s",
        highlight=False,
    )
    table = Table(title="windows", title_justify="left")
    for header in ("#", "test from", "test to", "params", f"IS {spec.sweep.objective}"):
        table.add_column(header, justify="right" if header.startswith(("#", "IS")) else "left")
    for header in ("OOS return [%]", "OOS Sharpe", "OOS trades"):
        table.add_column(header, justify="right")
    for w in result.windows:
        params = (
            ", ".join(f"{k}={v:g}" for k, v in w.params.items() if k in _swept(result))
            if w.params
            else "(cash)"
        )
        oos = w.out_of_sample
        table.add_row(
            str(w.window.number),
            format_metric("start", oos.get("start") or w.index[0]),
            format_metric("end", oos.get("end") or w.index[-1]),
            params,
            format_metric(spec.sweep.objective, w.in_sample.get(spec.sweep.objective)),
            format_metric("total_return_pct", oos.get("total_return_pct")),
            format_metric("sharpe_ratio", oos.get("sharpe_ratio")),
            format_metric("total_trades", oos.get("total_trades")),
        )
    drop = ("OOS trades", f"IS {spec.sweep.objective}", "test to")
    console.print(fit(table, console.width, drop=drop, hint=JSON_HINT))
    m = result.metrics
    console.print(
        "out of sample: "
        + ", ".join(
            f"{_label(k)} {format_metric(k, m.get(k))}"
            for k in (
                "total_return_pct",
                "annualized_return_pct",
                "sharpe_ratio",
                "max_drawdown_pct",
                "total_trades",
            )
        ),
        highlight=False,
    )
    if result.efficiency is not None:
        console.print(
            f"walk-forward efficiency {result.efficiency:.2f} (OOS annualised return / mean "
            "in-sample annualised return of the winners, "
            f"{result.in_sample_annualized_return_pct:+.2f} %)",
            highlight=False,
        )
    else:
        console.print(f"walk-forward efficiency n/a: {result.efficiency_reason}", style="dim")
    if result.unused_bars:
        console.print(
            f"{result.unused_bars:,} bars after the last full test window were not tested",
            style="dim",
        )
    _print_warnings(console, result.warnings)


def _print_warnings(console: Console, warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        console.print(f"warning: {warning}", style="yellow", highlight=False)


def _swept(result: WalkForwardResult) -> set[str]:
    names = {k for w in result.windows if w.params for k in w.params}
    ranges = result.spec.sweep.ranges
    return {k for k in names if k in ranges} or names


def _label(key: str) -> str:
    from tradesweep.metrics import LABELS

    return LABELS.get(key, key)


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _workers(compute_workers: int | None, old_workers: int | None) -> int | None:
    return merged(compute_workers, old_workers, flag="--compute-workers", old_flag="--workers")


def _heatmap_axes(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if len(names) != 2 or names[0] == names[1]:
        raise ParameterError(
            f"--heatmap {text!r} must name two different parameters",
            fix="write e.g. --heatmap fast,slow",
        )
    return names[0], names[1]


@contextmanager
def _progress_bar(*, enabled: bool, label: str) -> Iterator[Callable[[ProgressInfo], None] | None]:
    """A rich progress bar on stderr while the block runs, when stderr is a terminal; past the
    evaluation it names the phase that runs (``sweep: diagnostics…``). Ctrl-C prints
    "cancelled" and exits 130."""
    try:
        if not (enabled and sys.stderr.isatty()):
            yield None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        task = bar.add_task(label, total=None, rate="")

        def update(info: ProgressInfo) -> None:
            rate = f"{info.rate_per_second:,.0f}/s" if info.rate_per_second else ""
            if info.phase == "evaluating":
                bar.update(task, completed=info.done, total=info.total, rate=rate)
                return
            # a phase starts: show it at once, however short it is
            description = f"{label}: {info.phase}…"
            bar.update(task, description=description, completed=info.total, refresh=True)

        with bar:
            yield update
    except KeyboardInterrupt:
        typer.echo("cancelled", err=True)
        raise typer.Exit(130) from None
