"""Files holding secrets or tenants' data are created 0600 whatever the umask: the SQLite
database with its WAL and shared-memory files, the session secret and the metrics token;
folders the store creates are 0700. Also for a real ``tradesweep serve`` start."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tradesweep.api.settings import load_metrics_token, load_session_secret
from tradesweep.store import make_engine, upgrade_database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The loosest usual umask (022: files 0644), restored afterwards."""
    for name in ("TRADESWEEP_SESSION_SECRET", "TRADESWEEP_METRICS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_sqlite_database_and_its_wal_files_are_0600(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "new" / "tradesweep.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:  # WAL mode: the -wal and -shm files exist while open
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, path.with_name("tradesweep.db-wal"), path.with_name("tradesweep.db-shm")]
        for file in files:
            assert file.exists(), file
            assert mode(file) == 0o600, (file, oct(mode(file)))
        assert mode(path.parent) == 0o700
    finally:
        engine.dispose()


def test_the_session_secret_and_metrics_token_are_0600(tmp_path: Path, open_umask: None) -> None:
    secret = load_session_secret(tmp_path / "state")
    token = load_metrics_token(tmp_path / "state")
    assert len(secret) == len(token) == 64 and secret.decode() != token
    for name in ("session-secret", "metrics-token"):
        assert mode(tmp_path / "state" / name) == 0o600
    assert load_metrics_token(tmp_path / "state") == token  # made once, then read


def test_a_real_serve_creates_every_file_0600(run_serve: Callable[..., Any]) -> None:
    previous = os.umask(0o022)  # serve inherits it
    try:
        served = run_serve(workers=0)
    finally:
        os.umask(previous)
    with served.client() as client:
        assert client.get("/api/v1/jobs").status_code == 200
    made = sorted(p for p in served.data_dir.iterdir() if p.is_file())
    names = {p.name for p in made}
    assert {"tradesweep.db", "session-secret", "metrics-token"} <= names, names
    for file in made:
        assert mode(file) == 0o600, (file.name, oct(mode(file)))


def test_an_existing_database_keeps_its_mode(tmp_path: Path, open_umask: None) -> None:
    """The operator's choice on a file that exists already is left alone."""
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    upgrade_database(f"sqlite:///{path}")
    assert mode(path) == 0o640
