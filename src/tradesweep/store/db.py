"""Engines, sessions and schema upgrades. Nothing here is global: callers hold the engine.

SQLite is the embedded default, PostgreSQL the production backend; pick one with
``TRADESWEEP_DATABASE_URL`` (e.g. ``postgresql+psycopg://user:pw@host:5432/tradesweep``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.data.registry import DATA_DIR_ENV
from tradesweep.errors import TradesweepError

DATABASE_URL_ENV = "TRADESWEEP_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 5000

# Applied to every new SQLite connection; see docs/store.md for why each one.
SQLITE_PRAGMAS: dict[str, str] = {
    "journal_mode": "WAL",
    "busy_timeout": str(SQLITE_BUSY_TIMEOUT_MS),
    "synchronous": "FULL",
    "foreign_keys": "ON",
}


def default_database_url() -> str:
    """``$TRADESWEEP_DATABASE_URL``, else a SQLite file ``tradesweep.db`` in the data dir.

    The data dir is ``$TRADESWEEP_DATA_DIR`` when set (the same directory the dataset registry
    uses), else the platform's user data dir for ``tradesweep``.
    """
    configured = os.environ.get(DATABASE_URL_ENV)
    if configured:
        return configured
    data_dir = os.environ.get(DATA_DIR_ENV)
    base = (
        Path(data_dir).expanduser() if data_dir else Path(platformdirs.user_data_dir("tradesweep"))
    )
    return f"sqlite:///{base / 'tradesweep.db'}"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default :func:`default_database_url`), with SQLite tuned for
    concurrent writers: WAL, a busy timeout, ``synchronous=FULL``, foreign keys on, and every
    transaction begun with ``BEGIN IMMEDIATE`` so a writer waits for the lock up front instead
    of failing with "database is locked" when it upgrades a read lock."""
    url = url or default_database_url()
    parsed = make_url(url)
    # JSON never carries NaN or Infinity (PostgreSQL would reject it anyway): fail on write.
    kwargs.setdefault("json_serializer", functools.partial(json.dumps, allow_nan=False))
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _create_private(Path(parsed.database).expanduser())
        except OSError as exc:
            raise TradesweepError(
                f"cannot create the folder {folder} for the SQLite database: {exc.strerror or exc}",
                fix=f"choose a writable path in {DATABASE_URL_ENV} or --url, or set "
                f"{DATA_DIR_ENV} to a writable folder",
                file=str(folder),
            ) from None
    engine = create_engine(url, **kwargs)
    _tune_sqlite(engine)
    return engine


def _create_private(path: Path) -> None:
    """Create the SQLite file ``path``, mode 0600, before SQLite does (it would use the
    umask, often 0644): it holds every tenant's jobs and results and the key hashes, and
    SQLite gives its ``-wal``, ``-shm`` and journal files the database file's mode. A file
    that exists keeps the mode its operator gave it."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _tune_sqlite(engine: Engine) -> None:
    # The SQLAlchemy recipe for SQLite transactions: stop pysqlite from issuing its own
    # (deferred) BEGIN, then emit our own at the start of each SQLAlchemy transaction.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for name, value in SQLITE_PRAGMAS.items():
                cursor.execute(f"PRAGMA {name}={value}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
