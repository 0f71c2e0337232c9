"""``tradesweep db ...`` and ``tradesweep keys ...`` through the real app."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.store import ApiKeyRepository, head_revision, make_engine, session_factory


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TRADESWEEP_DATABASE_URL", raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield CliRunner()
    root.handlers[:] = handlers  # `webhooks deliver` configures logging on CliRunner's stderr
    root.setLevel(level)
    structlog.reset_defaults()


def test_upgrade_creates_the_default_sqlite_file(runner: CliRunner, tmp_path: Path) -> None:
    done = runner.invoke(app, ["db", "upgrade"])
    assert done.exit_code == 0, done.output
    assert f"revision {head_revision()}" in done.output
    assert (tmp_path / "data" / "tradesweep.db").is_file()
    now = runner.invoke(app, ["db", "current"])
    assert now.exit_code == 0 and now.output.strip() == f"{head_revision()} (head)"


@pytest.mark.parametrize(
    "args",
    [
        ["db", "current"],
        ["db", "prune", "--older-than", "30d"],
        ["keys", "list"],
        ["webhooks", "deliver", "--once"],
    ],
)
@pytest.mark.parametrize("by_url", [False, True])
def test_reading_a_missing_database_says_so_and_creates_nothing(
    runner: CliRunner, tmp_path: Path, args: list[str], by_url: bool
) -> None:
    path = tmp_path / ("elsewhere" if by_url else "data") / "tradesweep.db"
    url = f"sqlite:///{path}"
    result = runner.invoke(app, [*args, "--url", url] if by_url else args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: no database at {path} "), lines
    assert "tradesweep db upgrade" + (f" --url '{url}'" if by_url else "") in lines[0]
    assert not path.exists() and not path.parent.exists()


def test_an_existing_unmigrated_database_is_reported_not_migrated(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    result = runner.invoke(app, ["db", "current", "--url", f"sqlite:///{path}"])
    assert result.exit_code == 0 and "not migrated" in result.output, result.output


def test_database_url_from_env_and_option(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_db, opt_db = tmp_path / "env.db", tmp_path / "opt.db"
    monkeypatch.setenv("TRADESWEEP_DATABASE_URL", f"sqlite:///{env_db}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["db", "upgrade", "--url", f"sqlite:///{opt_db}"]).exit_code == 0
    assert env_db.is_file() and opt_db.is_file()
    assert not (tmp_path / "data" / "tradesweep.db").exists()


def test_keys_create_prints_the_key_once_and_list_shows_prefixes(
    runner: CliRunner, tmp_path: Path
) -> None:
    runner.invoke(app, ["db", "upgrade"])
    made = runner.invoke(app, ["keys", "create", "--tenant", "acme"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("ts_") and len(key) > 40
    runner.invoke(app, ["keys", "create", "--tenant", "other"])

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0
    assert key[:11] in listed.output and "acme" in listed.output and "other" in listed.output
    assert key not in listed.output
    only = runner.invoke(app, ["keys", "list", "--tenant", "acme"])
    assert key[:11] in only.output and "other" not in only.output

    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'tradesweep.db'}")
    try:
        with session_factory(engine)() as s:
            assert ApiKeyRepository(s).verify(key).name == "acme"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "create", "--tenant", "bad name!"],
        ["keys", "list", "--tenant", "nobody"],
        ["db", "upgrade", "--url", "not a url"],
        ["db", "current", "--url", "nosuchdialect://x"],
        ["db", "upgrade", "--url", "sqlite:////proc/no-such-dir/tradesweep.db"],
    ],
)
def test_bad_input_exits_2_with_one_line(runner: CliRunner, args: list[str]) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_keys_on_an_unmigrated_database_say_how_to_fix(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 2
    assert "tradesweep db upgrade" in result.stderr
