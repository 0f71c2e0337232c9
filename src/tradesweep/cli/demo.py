"""``tradesweep demo``: what ``make run`` shows until the service exists."""

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo() -> None:
    """Backtest and sweep the bundled GOOGL data and print the results."""
    typer.echo("tradesweep demo: coming with the engine")
