"""``tradesweep db ...``: create or upgrade the schema, show the revision in the database,
prune old finished jobs.

The database is ``--url``, else ``$TRADESWEEP_DATABASE_URL``, else the SQLite file
``tradesweep.db`` in the data directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradesweep.errors import TradesweepError, did_you_mean

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

# SQLAlchemy and the store load inside the commands: the rest of the CLI works without the
# `service` extra installed.

app = typer.Typer(
    no_args_is_help=True, help="Database: upgrade, current (the schema); prune (old jobs)."
)

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

    with database(url, existing=True) as engine:
        revision = current_revision(engine)
    head = head_revision()
    if revision is None:
        typer.echo(f"not migrated (newest is {head}): run `tradesweep db upgrade`")
    else:
        typer.echo(f"{revision} ({'head' if revision == head else f'newest is {head}'})")


_AGE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
MAX_AGE_DAYS = 36_500
"""The longest age ``db prune`` and ``serve --retention-days`` take: a hundred years (beyond
it, ``now - age`` is not a date)."""


@app.command()
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of the jobs to delete: 30d, 12h or 4w.")
    ],
    status: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated statuses to delete, default every finished one (queued and "
            "running: never).",
            show_default=False,
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Delete jobs finished longer ago than --older-than, with their results, events and
    webhook deliveries. Queued and running jobs are never deleted.

    Example: tradesweep db prune --older-than 30d --status completed,failed
    """
    from tradesweep.store import FINISHED_STATUSES, JobStatus, session_factory
    from tradesweep.store.retention import prune_jobs

    age = parse_age(older_than)
    finished = [s.value for s in FINISHED_STATUSES]
    statuses = finished if status is None else _statuses(status, finished)
    with database(url, migrated=True) as engine:
        pruned = prune_jobs(
            session_factory(engine), older_than=age, statuses=[JobStatus(s) for s in statuses]
        )
    typer.echo(
        f"pruned {pruned.jobs} job(s) finished more than {_age_text(older_than)} ago "
        f"({', '.join(statuses)}): {pruned.sweep_runs} sweep run(s), "
        f"{pruned.backtest_runs} backtest(s), {pruned.deliveries} webhook delivery(ies), "
        f"{pruned.events} event(s)"
    )


def parse_age(text: str, field: str = "--older-than") -> timedelta:
    """``30d``, ``12h`` or ``4w`` as a positive duration, else a one-line error."""
    match = _AGE.match(text)
    if not match:
        raise TradesweepError(
            f"{field} {text!r} is not an age",
            fix="a whole number and a unit: h, d or w, e.g. 30d",
            field=field,
        )
    count, unit = int(match.group(1)), match.group(2)
    if count <= 0 or count > MAX_AGE_DAYS * {"h": 24, "d": 1, "w": 1 / 7}[unit]:
        raise TradesweepError(
            f"{field} must be positive and at most {MAX_AGE_DAYS:,} days, got {text!r}",
            fix="e.g. 30d",
            field=field,
        )
    return timedelta(**{_AGE_UNITS[unit]: count})


def _age_text(text: str) -> str:
    match = _AGE.match(text)
    assert match is not None
    count, unit = int(match.group(1)), _AGE_UNITS[match.group(2)]
    return f"{count} {unit[:-1] if count == 1 else unit}"


def _statuses(text: str, finished: list[str]) -> list[str]:
    """The statuses named in ``--status``, each one of ``finished``."""
    chosen = [s.strip().lower() for s in text.split(",") if s.strip()]
    for name in chosen:
        if name in ("queued", "running"):
            raise TradesweepError(
                f"--status {name}: {name} jobs are never pruned",
                fix=f"choose among {', '.join(finished)}",
                field="status",
            )
        if name not in finished:
            raise TradesweepError(
                f"--status: unknown status {name!r}",
                fix=f"{did_you_mean(name, finished)}choose among {', '.join(finished)}",
                field="status",
            )
    if not chosen:
        raise TradesweepError("--status is empty", fix=f"e.g. {','.join(finished)}", field="status")
    return list(dict.fromkeys(chosen))


class NoDatabase(TradesweepError):
    """A command that reads the database, run where there is none yet."""

    code = "no_database"


@contextmanager
def database(
    url: str | None, *, migrated: bool = False, existing: bool = False
) -> Iterator[Engine]:
    """An engine for ``url``; database errors become one-line :class:`TradesweepError`.

    ``existing`` (implied by ``migrated``): a SQLite file that is not there is an error, not an
    empty database created on the way (only ``db upgrade`` and ``serve`` create one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

    from tradesweep.store import make_engine
    from tradesweep.store.db import default_database_url

    try:
        parsed = make_url(url or default_database_url())
        if existing or migrated:
            _require_file(parsed, url)
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
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        first_line = str(cause).splitlines()[0]
        raise TradesweepError(
            f"database error on {_safe(engine)}: {first_line}",
            fix="check the URL and that the server is up",
        ) from None
    finally:
        engine.dispose()


def _require_file(parsed: URL, url: str | None) -> None:
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return  # a server database that is missing fails on connect, naming itself
    if database.startswith("file:") or Path(database).expanduser().is_file():
        return
    upgrade = "tradesweep db upgrade" + (f" --url '{url}'" if url else "")
    raise NoDatabase(
        f"no database at {Path(database).expanduser()}",
        fix=f"create it with `{upgrade}` (or start `tradesweep serve`), or point --url or "
        "$TRADESWEEP_DATABASE_URL at an existing one",
        file=str(Path(database).expanduser()),
    )


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
