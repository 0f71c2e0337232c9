"""``tradesweep db ...``: create or upgrade the schema, show the revision in the database.

The database is ``--url``, else ``$TRADESWEEP_DATABASE_URL``, else the SQLite file
``tradesweep.db`` in the data directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from tradesweep.errors import TradesweepError

if TYPE_CHECKING:
    from sqlalchemy import Engine

# SQLAlchemy and the store load inside the commands: the rest of the CLI works without the
# `service` extra installed.

app = typer.Typer(no_args_is_help=True, help="Database schema: upgrade, current.")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="SQLAlchemy URL (default: $TRADESWEEP_DATABASE_URL or <data dir>/tradesweep.db).",
    ),
]


@app.command()
def upgrade(url: UrlOption = None) -> None:
    """Create the tables or migrate them to the newest revision."""
    from tradesweep.store import upgrade_database

    with database(url) as engine:
        revision = upgrade_database(engine)
    typer.echo(f"database at revision {revision} ({_safe(engine)})")


@app.command()
def current(url: UrlOption = None) -> None:
    """Print the revision the database is at, and whether it is the newest."""
    from tradesweep.store import current_revision, head_revision

    with database(url) as engine:
        revision = current_revision(engine)
    head = head_revision()
    if revision is None:
        typer.echo(f"not migrated (newest is {head}): run `tradesweep db upgrade`")
    else:
        typer.echo(f"{revision} ({'head' if revision == head else f'newest is {head}'})")


@contextmanager
def database(url: str | None, *, migrated: bool = False) -> Iterator[Engine]:
    """An engine for ``url``; database errors become one-line :class:`TradesweepError`."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from tradesweep.store import make_engine

    try:
        engine = make_engine(url)
    except ArgumentError as exc:
        raise TradesweepError(
            f"invalid database URL {url!r}: {exc}",
            fix="e.g. sqlite:///path/tradesweep.db or postgresql+psycopg://user@host/db",
            field="url",
        ) from None
    try:
        if migrated:
            _require_migrated(engine)
        yield engine
    except SQLAlchemyError as exc:
        first_line = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise TradesweepError(
            f"database error on {_safe(engine)}: {first_line}",
            fix="check the URL and that the server is up",
        ) from None
    finally:
        engine.dispose()


def _require_migrated(engine: Engine) -> None:
    from tradesweep.store import current_revision, head_revision

    revision, head = current_revision(engine), head_revision()
    if revision != head:
        raise TradesweepError(
            f"database {_safe(engine)} is at revision {revision or 'none'}, not {head}",
            fix="run `tradesweep db upgrade`",
        )


def _safe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
