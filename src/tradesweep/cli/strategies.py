"""``tradesweep strategies ...`` (placeholder, filled by the strategies work)."""

import typer

app = typer.Typer(no_args_is_help=True, help="The strategy library: list, show.")
