"""The ``tradesweep`` command line (typer)."""
