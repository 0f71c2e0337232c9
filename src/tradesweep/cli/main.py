"""Entry point: one typer app, one sub-app or command per module, mounted here.

Every :class:`~tradesweep.errors.TradesweepError` raised below becomes one line on stderr
(``error: what ... (how to fix)``, its field names said as flags by
:func:`~tradesweep.vocabulary.for_cli`) and exit code 2, never a traceback; so does a usage error
(an unknown or missing option, a bad value, an unknown command), with the ``--help`` to read
instead of typer's boxed usage text. ``--help`` itself keeps typer's rich layout.

The research commands need only the core install (``pip install tradesweep``). The service
commands are mounted only when the ``service`` extra is installed; without it each of them
(``--help`` included) says in one line which extra to install, and exits 2.
"""

from __future__ import annotations

import importlib.util
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from tradesweep.errors import TradesweepError
from tradesweep.vocabulary import for_cli

try:  # typer >= 0.22 vendors click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover - older typers use click itself
    from click.exceptions import (  # type: ignore[assignment,no-redef]
        ClickException,
        NoArgsIsHelpError,
    )


class _ErrorsToExitCode(TyperGroup):
    # ignore: the supertype types ctx as click's Context in older typers and as typer's vendored
    # copy of it in newer ones, so no single annotation matches every supported typer.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)  # subcommands parse their options in here
        except TradesweepError as exc:
            typer.echo(f"error: {for_cli(str(exc))}", err=True)
            raise typer.Exit(2) from None
        except ClickException as exc:
            _usage_error(exc)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)  # the top level's own options
        except ClickException as exc:
            _usage_error(exc)


def _usage_error(exc: ClickException) -> NoReturn:
    """``error: <click's message> (see `<command> --help`)`` on one line, click's exit code
    (2 for usage errors)."""
    if isinstance(exc, NoArgsIsHelpError):
        raise exc  # a bare group: typer prints its help
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "tradesweep"
    message = " ".join(exc.format_message().split())
    typer.echo(f"error: {message} (see `{where} --help`)", err=True)
    raise typer.Exit(exc.exit_code)


app = typer.Typer(
    cls=_ErrorsToExitCode,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Backtest trading strategies and sweep their parameters.",
)


SERVICE_EXTRA = "pip install 'tradesweep[service]'"
_SERVICE_MODULES = (
    "structlog",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "fastapi_offline",
    "uvicorn",
    "httpx",
    "multipart",
    "standardwebhooks",
    "prometheus_client",
    "tenacity",
)
"""Top-level modules of the ``service`` extra's packages (pyproject.toml)."""
_SERVICE_COMMANDS = {
    "serve": "Run the API server and its workers.",
    "worker": "Run job workers against the database.",
    "db": "Database: upgrade, current (the schema); prune (old jobs).",
    "keys": "API keys: create, list, revoke, rotate.",
    "webhooks": "Webhooks: signing secret, default URL, delivery loop.",
}


class MissingExtra(TradesweepError):
    """A command whose optional dependencies are not installed."""

    code = "missing_extra"


def service_installed() -> bool:
    """Whether every package of the ``service`` extra can be imported (none is imported)."""
    for name in _SERVICE_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


def _needs_service(name: str, help_text: str) -> None:
    @app.command(
        name,
        help=f"{help_text} Needs the service extra: {SERVICE_EXTRA}.",
        add_help_option=False,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def missing(ctx: typer.Context) -> None:
        raise MissingExtra(
            f"'tradesweep {name}' needs the service extra, which is not installed",
            fix=f"{SERVICE_EXTRA}; the research commands (data, strategies, backtest, sweep, "
            "walkforward, demo) need only the core install",
            extra="service",
        )


def _mount() -> None:
    from tradesweep.cli import backtest, data, demo, paper, strategies, sweep

    app.add_typer(data.app, name="data")
    app.add_typer(strategies.app, name="strategies")
    app.add_typer(paper.app, name="paper")
    demo.register(app)
    backtest.register(app)
    sweep.register(app)
    if service_installed():
        from tradesweep.cli import db, keys, serve, webhooks, worker

        app.add_typer(db.app, name="db")
        app.add_typer(keys.app, name="keys")
        app.add_typer(webhooks.app, name="webhooks")
        serve.register(app)
        worker.register(app)
    else:
        for name, help_text in _SERVICE_COMMANDS.items():
            _needs_service(name, help_text)


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
