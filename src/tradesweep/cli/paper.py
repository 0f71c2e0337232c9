"""``tradesweep paper run``: replay a dataset through the paper pipeline in the foreground.

The session runs in process on the in-process bus (nothing beyond the core install is
needed): replay source -> strategy engine -> paper executor -> portfolio
(:func:`tradesweep.paper.pipeline.run_paper`). It prints the session (id, candles, orders,
trades), its metrics, computed as the backtest's are, and a comparison with the backtest of
the same spec: that backtest's headline metrics and the largest absolute equity difference
between the two curves. ``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradesweep.cli.backtest import (
    ConventionOpt,
    metrics_table,
    print_trades_summary,
    spec_from_options,
)
from tradesweep.cli.engine_options import with_engine_options
from tradesweep.cli.tables import fit

app = typer.Typer(
    no_args_is_help=True,
    help="Paper trading: run (replay a dataset through the paper pipeline in the foreground).",
)

_COMPARED = ("final_equity", "total_return_pct", "sharpe_ratio", "max_drawdown_pct", "total_trades")


def run(
    data: Annotated[str, typer.Option("--data", "-d", help="Registered ticker (GOOGL).")],
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
    speed: Annotated[
        float,
        typer.Option("--speed", help="Candles per second (0: as fast as possible)."),
    ] = 0.0,
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
    indicator_convention: ConventionOpt = "pandas",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object {session_id, status, metrics, trades, orders, "
            "rejections, comparison}.",
        ),
    ] = False,
    *,
    settings: dict[str, Any],
) -> None:
    """Replay a dataset through the paper pipeline and compare it with its backtest.

    Example: tradesweep paper run --data GOOGL --strategy sma_crossover -p fast=10 -p slow=30
    """
    from tradesweep.metrics import to_json_safe
    from tradesweep.paper.pipeline import run_paper
    from tradesweep.paper.report import max_equity_difference, paper_metrics
    from tradesweep.services.backtest import run_backtest_spec

    spec, runtime = spec_from_options(
        data, strategy, param, settings, periods_per_year, risk_free, indicator_convention
    )
    registry = runtime.registry()
    # the backtest first: it refuses bad input (and too few bars) before any replay
    backtest = run_backtest_spec(spec, registry=registry, plugins=runtime.strategy_plugins)
    session = run_paper(spec, registry, speed=speed)
    result, metrics = paper_metrics(session, spec, registry)
    difference = max_equity_difference(result, backtest.result)
    trades = to_json_safe(result.trades_frame().to_dict(orient="records"))
    out = {
        "session_id": session.session,
        "status": "completed",
        "metrics": metrics,
        "trades": trades,
        "orders": to_json_safe([_order(o) for o in session.orders]),
        "rejections": [],
        "comparison": {
            "backtest_metrics": backtest.metrics,
            "max_equity_difference": difference,
            "trades_equal": trades == backtest.trade_records(),
        },
    }
    if as_json:
        typer.echo(json.dumps(out, allow_nan=False))
        return
    console = Console()
    console.print(
        f"paper session {session.session}: {len(session.snapshots)} candles, "
        f"{len(session.orders)} orders, {len(trades)} trades (completed)",
        highlight=False,
    )
    title = f"{backtest.title()} · paper"
    table = metrics_table(metrics, title=title, initial_cash=backtest.settings.cash)
    console.print(fit(table, console.width))
    print_trades_summary(console, result, hint="--json has them")
    console.print(fit(_comparison_table(metrics, backtest.metrics, difference), console.width))


def _order(order: Any) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "leg": order.leg,
        "time": order.time,
        "action": order.action,
    }


def _comparison_table(
    paper: dict[str, Any], backtest: dict[str, Any], difference: float | None
) -> Table:
    from tradesweep.metrics import LABELS
    from tradesweep.reports.format import format_metric

    table = Table(title="paper vs backtest (same spec)", title_justify="left")
    table.add_column("metric")
    table.add_column("paper", justify="right")
    table.add_column("backtest", justify="right")
    for key in _COMPARED:
        table.add_row(
            Text(LABELS[key]),
            format_metric(key, paper.get(key)),
            format_metric(key, backtest.get(key)),
        )
    shown = "bars differ" if difference is None else f"{difference:.3g}"
    table.add_row(Text("max |equity difference|"), shown, "")
    return table


app.command("run")(with_engine_options(run))
