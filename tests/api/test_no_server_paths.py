"""No error names a server path: unknown or path-like strategy, preset and ticker names on
every route that takes one answer a 4xx that names the field and the valid choices, never
the data directory, the package directory, the interpreter's prefix or the working
directory. Real server, SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import tradesweep

Caller = Any

NAMES = [
    "nope",
    "no_such.yaml",
    "../../etc/passwd",
    "/etc/passwd",
    "plugin.py",
    "plugin.py:Momentum",
    "x/y",
    "..",
    "~root",
]
SWEEP = {"ticker": "GOOGL", "fast_range": [10, 20], "slow_range": [30, 40], "step": 10}
BACKTEST = {"ticker": "GOOGL", "fast_period": 10, "slow_period": 30}
RUN = {"strategy_name": "sma_crossover", "symbol": "GOOGL", "parameters": {}}
WALK = {**SWEEP, "train_bars": 500, "test_bars": 200}
BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/strategy/sweep": SWEEP,
    "/api/v1/sweeps/estimate": SWEEP,
    "/api/pipelines/trigger": SWEEP,
    "/api/v1/walkforward": WALK,
    "/api/v1/walkforward/estimate": WALK,
    "/api/v1/backtests": BACKTEST,
    "/api/backtest/run": RUN,
}
FIELDS = {
    "/api/backtest/run": ("strategy_name", "symbol"),
}
DEFAULT_FIELDS = ("ticker", "strategy_type", "config_path")


@pytest.fixture
def server_dirs(data_dir: Path, tmp_path: Path) -> list[str]:
    """Folders of this server whose names must never reach a client."""
    dirs = {
        data_dir,
        data_dir.resolve(),
        tmp_path,
        Path(tradesweep.__file__).parent,
        Path(sys.prefix),
        Path.cwd(),
    }
    return sorted({str(d) for d in dirs if len(str(d)) > 1})


def _assert_no_path(text: str, dirs: list[str], what: str) -> None:
    for folder in dirs:
        assert folder not in text, f"{what} names the server path {folder}: {text[:500]}"


@pytest.mark.parametrize("route", sorted(BODIES))
def test_unknown_names_in_a_body_never_reveal_a_server_path(
    acme: Caller, server_dirs: list[str], route: str
) -> None:
    (acme.client.post("/api/v1/strategy/sweep", json=SWEEP)).raise_for_status()  # a real one
    for field in FIELDS.get(route, DEFAULT_FIELDS):
        for name in NAMES:
            response = acme.client.post(route, json={**BODIES[route], field: name})
            assert 400 <= response.status_code < 500, (route, field, name, response.text)
            _assert_no_path(response.text, server_dirs, f"{route} {field}={name!r}")
            assert response.json()["error"]


def test_stored_strategy_files_are_named_not_located(
    acme: Caller, server_dirs: list[str], data_dir: Path
) -> None:
    """A stored strategy exists on disk: an error about it still names it, not its file."""
    stored = data_dir / "strategies"
    stored.mkdir(parents=True)
    (stored / "broken.yaml").write_text("name: broken\nentry: [\n")
    response = acme.client.post("/api/backtest/run", json={**RUN, "strategy_name": "broken"})
    assert 400 <= response.status_code < 500, response.text
    _assert_no_path(response.text, server_dirs, "a broken stored strategy")


def test_unknown_names_in_paths_and_queries(acme: Caller, server_dirs: list[str]) -> None:
    for name in NAMES:
        for path, params in (
            (f"/api/v1/strategies/{name}", {}),
            ("/api/v1/jobs", {"ticker": name}),
            ("/api/v1/sweeps/x/best", {"ticker": name}),
        ):
            response = acme.client.get(path, params=params)
            assert response.status_code < 500, (path, name, response.text)
            _assert_no_path(response.text, server_dirs, f"{path} {params}")
