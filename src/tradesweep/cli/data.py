"""``tradesweep data ...`` (placeholder, filled by the data work)."""

import typer

app = typer.Typer(no_args_is_help=True, help="Market data: list, import, show, synth.")
