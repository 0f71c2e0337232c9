"""``tradesweep data ...``: list, import, show and synthesise datasets in the registry.

The registry lives in ``$TRADESWEEP_DATA_DIR`` (default: the user data directory). Bad
input raises a :class:`~tradesweep.errors.TradesweepError`, which the main app prints as
one line with exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from tradesweep.data import DatasetInfo, DatasetRegistry, synthetic_bars

app = typer.Typer(no_args_is_help=True, help="Market data: list, import, show, synth.")


@app.command("list")
def list_() -> None:
    """List every dataset: the shared ones (imported here, and the bundled samples), then
    each tenant's uploads, with the tenant's id as their owner."""
    table = Table(title="datasets")
    headers = ("ticker", "owner", "rows", "first", "last", "interval", "kind", "source")
    for header in headers:
        table.add_column(header, justify="right" if header == "rows" else "left", overflow="fold")
    registry = DatasetRegistry()
    uploads = [info for t in registry.tenants() for info in registry.for_tenant(t).owned()]
    for info in [*registry.list(), *uploads]:
        table.add_row(
            info.ticker,
            "shared" if info.tenant is None else f"tenant {info.tenant}",
            f"{info.rows:,}",
            _when(info.first, _daily(info)),
            _when(info.last, _daily(info)),
            info.interval or "-",
            _kind(info),
            info.source,
        )
    _console().print(table)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file with OHLCV columns.")],
    ticker: Annotated[str, typer.Option("--ticker", "-t", help="Name to store it under.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing ticker.")] = False,
) -> None:
    """Validate FILE and store it in the registry as Parquet."""
    info = DatasetRegistry().import_file(file, ticker, overwrite=overwrite)
    typer.echo(f"imported {info.ticker}: {info.rows:,} rows, {_span(info)}")


@app.command("show")
def show(
    ticker: Annotated[str, typer.Argument(help="A registered or bundled ticker.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=0, help="Head and tail rows.")] = 5,
) -> None:
    """Summarise a dataset and print its first and last bars."""
    registry = DatasetRegistry()
    info = registry.info(ticker)
    summary = Table(title=info.ticker, show_header=False)
    summary.add_column("field")
    summary.add_column("value", overflow="fold")
    for field, value in (
        ("rows", f"{info.rows:,}"),
        ("first", _when(info.first, _daily(info)) + " UTC"),
        ("last", _when(info.last, _daily(info)) + " UTC"),
        ("interval", info.interval or "-"),
        ("kind", _kind(info)),
        ("source", info.source),
        ("imported", info.imported_at or "-"),
    ):
        summary.add_row(field, value)
    console = _console()
    console.print(summary)
    if rows:
        bars = registry.load(info.ticker)
        edge = bars if len(bars) <= 2 * rows else pd.concat([bars.head(rows), bars.tail(rows)])
        gap = rows if len(bars) > 2 * rows else None
        console.print(_bars_table(edge, daily=_daily(info), gap_after=gap))


@app.command("synth")
def synth(
    bars: Annotated[int, typer.Option("--bars", min=1, help="Number of bars.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bars.")] = 0,
    ticker: Annotated[str, typer.Option("--ticker", "-t", help="Name to store it under.")] = "SYN",
    interval: Annotated[str, typer.Option(help="Bar interval, e.g. 1D, 1h, 15m.")] = "1D",
    start: Annotated[str, typer.Option(help="First timestamp (UTC).")] = "2000-01-01",
    s0: Annotated[float, typer.Option(help="Starting price.")] = 100.0,
    drift: Annotated[float, typer.Option(help="Annual drift.")] = 0.05,
    volatility: Annotated[float, typer.Option(help="Annual volatility.")] = 0.2,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing ticker.")] = False,
) -> None:
    """Generate seeded geometric-Brownian-motion bars and register them as synthetic."""
    frame = synthetic_bars(
        bars,
        seed=seed,
        interval=interval,
        start=start,
        s0=s0,
        drift=drift,
        volatility=volatility,
        ticker=ticker.strip().upper(),
    )
    info = DatasetRegistry().register_frame(frame, ticker, synthetic=True, overwrite=overwrite)
    typer.echo(
        f"registered {info.ticker}: {info.rows:,} synthetic bars (seed {seed}), {_span(info)}"
    )


def _span(info: DatasetInfo) -> str:
    daily = _daily(info)
    return (
        f"{_when(info.first, daily)} .. {_when(info.last, daily)} UTC"
        f" ({info.interval or 'single bar'})"
    )


def _kind(info: DatasetInfo) -> str:
    if info.synthetic:
        return "synthetic"
    return "bundled" if info.source == "bundled" else "market"


def _console() -> Console:
    # Piped output has no terminal width; let tables use the width they need.
    return Console() if sys.stdout.isatty() else Console(width=200)


def _daily(info: DatasetInfo) -> bool:
    return (
        info.first == info.first.normalize()
        and info.last == info.last.normalize()
        and (info.interval is None or not info.interval.endswith(("h", "min", "s")))
    )


def _when(stamp: pd.Timestamp, daily: bool) -> str:
    """UTC time as ``2017-01-01 22:00``, or just the date for daily and slower bars."""
    return stamp.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M")


def _bars_table(bars: pd.DataFrame, *, daily: bool, gap_after: int | None) -> Table:
    table = Table()
    table.add_column("timestamp (UTC)")
    for column in bars.columns:
        table.add_column(column, justify="right")
    for i, (stamp, row) in enumerate(bars.iterrows()):
        if gap_after is not None and i == gap_after:
            table.add_row("...", *["" for _ in bars.columns])
        cells = (f"{v:,.0f}" if c == "volume" else f"{v:,.6g}" for c, v in row.items())
        table.add_row(_when(stamp, daily), *cells)
    return table
