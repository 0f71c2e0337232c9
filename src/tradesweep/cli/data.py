"""``tradesweep data ...``: list, import, show, remove and synthesise datasets in the registry.

The registry lives in ``$TRADESWEEP_DATA_DIR`` (default: the user data directory), read by
each command when it starts (:mod:`tradesweep.environment`). Bad
input raises a :class:`~tradesweep.errors.TradesweepError`, which the main app prints as
one line with exit code 2.

Data imported under a bundled sample's name (``--overwrite``) shadows the sample; ``remove``
brings it back. ``remove`` is refused while a queued or running job of the service names the
ticker: it looks in the database of ``--url``, ``$TRADESWEEP_DATABASE_URL`` or the default
SQLite file of the data dir, when there is one and the service extra is installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from tradesweep.cli.db import UrlOption
from tradesweep.cli.tables import fit, wide_console
from tradesweep.data import DatasetInfo, DatasetRegistry, synthetic_bars
from tradesweep.environment import RuntimeSettings
from tradesweep.errors import TradesweepError

app = typer.Typer(no_args_is_help=True, help="Market data: list, import, show, remove, synth.")


class DatasetInUse(TradesweepError):
    """A dataset that a queued or running job still reads."""

    code = "dataset_in_use"


@app.command("list")
def list_() -> None:
    """List every dataset: the shared ones (imported here, and the bundled samples), then
    each tenant's uploads, with the tenant's id as their owner."""
    table = Table(title="datasets")
    headers = ("ticker", "owner", "rows", "first", "last", "interval", "kind", "source")
    for header in headers:
        table.add_column(header, justify="right" if header == "rows" else "left", overflow="fold")
    registry = _registry()
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
    console = _console()
    console.print(fit(table, console.width, drop=("source", "kind", "interval", "owner")))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file with OHLCV columns.")],
    ticker: Annotated[str, typer.Option("--ticker", "-t", help="Name to store it under.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing ticker.")] = False,
) -> None:
    """Validate FILE and store it in the registry as Parquet."""
    info = _registry().import_file(file, ticker, overwrite=overwrite)
    typer.echo(f"imported {info.ticker}: {info.rows:,} rows, {_span(info)}")
    if info.shadows_sample:
        typer.echo(
            f"{info.ticker} shadows the bundled sample of that name; "
            f"`tradesweep data remove {info.ticker}` brings the sample back"
        )


@app.command("remove")
def remove(
    ticker: Annotated[str, typer.Argument(help="A ticker imported with `data import`.")],
    url: UrlOption = None,
) -> None:
    """Delete an imported dataset; a bundled sample it shadowed is seen again. Refused while
    a queued or running job uses it."""
    registry = _registry()
    key = ticker.strip().upper()
    if key in {i.ticker for i in registry.owned()}:
        _refuse_if_in_use(key, url)
    info = registry.remove(ticker)
    back = f"; the bundled sample {info.ticker} is back" if info.shadows_sample else ""
    typer.echo(f"removed {info.ticker} ({info.rows:,} rows){back}")


def _refuse_if_in_use(key: str, url: str | None) -> None:
    from tradesweep.cli.main import service_installed

    if not service_installed():
        return  # no service can run from this install
    from tradesweep.cli.db import database
    from tradesweep.store import JobRepository, current_revision, session_factory
    from tradesweep.store.db import DATABASE_URL_ENV, default_database_url

    url = url or os.environ.get(DATABASE_URL_ENV)
    if url is None:
        default = default_database_url()
        if not Path(default.removeprefix("sqlite:///")).is_file():
            return  # no service has run on this data dir's default database
        url = default
    with database(url) as engine:
        if current_revision(engine) is None:
            return
        with session_factory(engine)() as session:
            jobs = JobRepository(session).active_on(key)
            if jobs:
                first = jobs[0]
                raise DatasetInUse(
                    f"{key} is in use: {first.status.value} job {first.id}"
                    + (f" and {len(jobs) - 1} more" if len(jobs) > 1 else ""),
                    fix="wait for the job(s) to finish or cancel them, then remove it",
                    ticker=key,
                    jobs=[j.id for j in jobs],
                )


@app.command("show")
def show(
    ticker: Annotated[str, typer.Argument(help="A registered or bundled ticker.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=0, help="Head and tail rows.")] = 5,
) -> None:
    """Summarise a dataset and print its first and last bars."""
    registry = _registry()
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
    console.print(fit(summary, console.width))
    if rows:
        bars = registry.load(info.ticker)
        edge = bars if len(bars) <= 2 * rows else pd.concat([bars.head(rows), bars.tail(rows)])
        gap = rows if len(bars) > 2 * rows else None
        table = _bars_table(edge, daily=_daily(info), gap_after=gap)
        console.print(fit(table, console.width, drop=("adj_close", "volume", "high", "low")))


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
    info = _registry().register_frame(frame, ticker, synthetic=True, overwrite=overwrite)
    typer.echo(
        f"registered {info.ticker}: {info.rows:,} synthetic bars (seed {seed}), {_span(info)}"
    )


def _registry() -> DatasetRegistry:
    """The registry in the data dir the environment names, read now (once per command)."""
    return RuntimeSettings.from_environ(os.environ).registry()


def _span(info: DatasetInfo) -> str:
    daily = _daily(info)
    return (
        f"{_when(info.first, daily)} .. {_when(info.last, daily)} UTC"
        f" ({info.interval or 'single bar'})"
    )


def _kind(info: DatasetInfo) -> str:
    kind = "synthetic" if info.synthetic else "bundled" if info.source == "bundled" else "market"
    return f"{kind}, shadows bundled" if info.shadows_sample else kind


def _console() -> Console:
    return wide_console()


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
