"""SQLite settings: pragmas on every connection, writers that wait instead of failing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tradesweep.store import (
    JobRepository,
    TenantRepository,
    default_database_url,
    make_engine,
    session_factory,
    upgrade_database,
)


def test_pragmas_are_set_on_every_connection(sqlite_path: Path) -> None:
    engine = make_engine(f"sqlite:///{sqlite_path}")
    try:
        with engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 5000
            assert pragma("synchronous") == 2  # FULL
            assert pragma("foreign_keys") == 1
    finally:
        engine.dispose()


def test_default_url_lives_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADESWEEP_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "data"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'data' / 'tradesweep.db'}"
    monkeypatch.setenv("TRADESWEEP_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert default_database_url() == "postgresql+psycopg://u@h/db"


def test_foreign_keys_are_enforced(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with pytest.raises(Exception, match="FOREIGN KEY"), session_factory(engine).begin() as s:
            JobRepository(s).create(999, "sweep", {})
    finally:
        engine.dispose()


def test_concurrent_writers_wait_for_each_other(sqlite_path: Path) -> None:
    """Two threads each hold a write transaction for a while; with BEGIN IMMEDIATE and a busy
    timeout the second waits for the first instead of failing with "database is locked"."""
    url = f"sqlite:///{sqlite_path}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        tenant_id = TenantRepository(s).create("acme").id
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                with sessions.begin() as s:
                    # read first, then write: the deferred-BEGIN deadlock case
                    s.execute(text("SELECT count(*) FROM jobs")).scalar()
                    JobRepository(s).create(tenant_id, "sweep", {"n": n, "i": i})
                    time.sleep(0.02)
        except BaseException as exc:  # pragma: no cover - the failure we test against
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar() == 15
    finally:
        engine.dispose()
