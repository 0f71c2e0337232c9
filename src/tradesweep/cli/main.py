"""Entry point: one typer app, one sub-app or command per module, mounted here.

Every :class:`~tradesweep.errors.TradesweepError` raised below becomes one line on stderr
(``error: what ... (how to fix)``) and exit code 2, never a traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from tradesweep.errors import TradesweepError


class _ErrorsToExitCode(TyperGroup):
    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TradesweepError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_ErrorsToExitCode,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Backtest trading strategies and sweep their parameters.",
)


def _mount() -> None:
    from tradesweep.cli import (
        backtest,
        data,
        db,
        demo,
        keys,
        serve,
        strategies,
        sweep,
        webhooks,
        worker,
    )

    app.add_typer(data.app, name="data")
    app.add_typer(strategies.app, name="strategies")
    app.add_typer(db.app, name="db")
    app.add_typer(keys.app, name="keys")
    app.add_typer(webhooks.app, name="webhooks")
    demo.register(app)
    backtest.register(app)
    sweep.register(app)
    serve.register(app)
    worker.register(app)


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
