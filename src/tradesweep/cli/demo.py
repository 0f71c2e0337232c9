"""``tradesweep demo``: what ``make run`` shows.

One backtest of ``sma_crossover`` on the bundled GOOGL daily bars (fees 0.1 %), its metrics, an
offline HTML report, then a small fast/slow grid run as a plain loop over
:func:`~tradesweep.services.backtest.run_backtest_spec` with the top 5 by Sharpe. The loop is
a demo only: the sweep module computes each moving average once and runs every combination in
one fused kernel.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradesweep.cli.tables import fit
from tradesweep.reports.format import format_metric, metric_tone

DEMO_DATA = "GOOGL"
DEMO_STRATEGY = "sma_crossover"
DEMO_PARAMS = {"fast": 10, "slow": 30}
DEMO_FEES = 0.001
FAST_GRID = (5, 10, 15, 20, 30, 40, 50)
SLOW_GRID = (20, 30, 50, 80, 100, 150, 200)
TOP = 5
DEFAULT_HTML = Path("out") / "tradesweep-demo.html"

# short headers so the table fits 80 columns; the full labels are in metrics.LABELS
_TOP_COLUMNS = {
    "sharpe_ratio": "Sharpe",
    "total_return_pct": "Return [%]",
    "max_drawdown_pct": "Max DD [%]",
    "total_trades": "Trades",
    "win_rate_pct": "Win [%]",
}


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    html: Annotated[
        Path,
        typer.Option("--html", help="Where to write the HTML report of the first backtest."),
    ] = DEFAULT_HTML,
) -> None:
    """Backtest and sweep the bundled GOOGL data and print the results."""
    from tradesweep.cli.backtest import print_metrics, print_trades_summary
    from tradesweep.engine import EngineSettings
    from tradesweep.environment import RuntimeSettings
    from tradesweep.reports.html import write_html_report
    from tradesweep.services.backtest import run_backtest_spec
    from tradesweep.specs import BacktestSpec

    console = Console()
    spec = BacktestSpec(
        data=DEMO_DATA,
        strategy=DEMO_STRATEGY,
        params=DEMO_PARAMS,
        settings=EngineSettings(fees=DEMO_FEES),
    )
    console.print(
        Text(
            f"tradesweep demo: {DEMO_STRATEGY} on the bundled {DEMO_DATA} daily bars, "
            f"fees {DEMO_FEES:.1%} of notional, long only, next-open fills",
            style="bold",
        )
    )
    runtime = RuntimeSettings.from_environ(os.environ)
    backtest = functools.partial(
        run_backtest_spec,
        registry=runtime.registry(),
        plugins=runtime.strategy_plugins,
    )
    report = backtest(spec)
    print_metrics(console, report)
    print_trades_summary(console, report)
    html.parent.mkdir(parents=True, exist_ok=True)
    write_html_report(report, html)
    console.print(Text(f"HTML report: {html.resolve()}"))

    combos = [(f, s) for f, s in itertools.product(FAST_GRID, SLOW_GRID) if f < s]
    started = time.perf_counter()
    rows: list[tuple[int, int, dict[str, Any]]] = []
    for fast, slow in combos:
        run = backtest(spec.replace(params={"fast": fast, "slow": slow}))
        rows.append((fast, slow, run.metrics))
    elapsed = time.perf_counter() - started
    rows.sort(key=lambda row: _sharpe_key(row[2]), reverse=True)

    table = Table(
        title=f"demo sweep: top {TOP} of {len(combos)} fast/slow pairs by Sharpe "
        f"(fast in {list(FAST_GRID)}, slow in {list(SLOW_GRID)}; {elapsed:.2f} s as a "
        "plain loop)",
        title_justify="left",
    )
    for header in ("#", "fast", "slow"):
        table.add_column(header, justify="right", no_wrap=True)
    for header in _TOP_COLUMNS.values():
        table.add_column(Text(header), justify="right", no_wrap=True)
    for rank, (fast, slow, metrics) in enumerate(rows[:TOP], start=1):
        cells = [
            Text(
                format_metric(key, metrics.get(key)),
                style={"gain": "green", "loss": "red"}.get(
                    metric_tone(key, metrics.get(key)) or "", ""
                ),
            )
            for key in _TOP_COLUMNS
        ]
        table.add_row(str(rank), str(fast), str(slow), *cells)
    drop = [_TOP_COLUMNS[key] for key in ("win_rate_pct", "total_trades", "max_drawdown_pct")]
    console.print(fit(table, console.width, drop=drop))
    console.print(
        Text("The best of many runs on one series is optimistic: check it out of sample.")
    )


def _sharpe_key(metrics: dict[str, Any]) -> float:
    value = metrics.get("sharpe_ratio")
    return float("-inf") if value is None else float(value)
