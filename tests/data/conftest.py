"""Factories for data files written into tmp_path, and an isolated registry directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GOOD_ROWS = [
    "2020-01-01,10.0,11.0,9.0,10.5,1000",
    "2020-01-02,10.5,12.0,10.0,11.5,1100",
    "2020-01-03,11.5,11.8,10.9,11.0,900",
    "2020-01-06,11.0,11.2,10.1,10.2,1200",
    "2020-01-07,10.2,10.9,10.0,10.8,800",
    "2020-01-08,10.8,11.5,10.7,11.4,950",
]
HEADER = "Date,Open,High,Low,Close,Volume"

WriteCsv = Callable[..., Path]


@pytest.fixture
def good_rows() -> list[str]:
    """Six valid daily bars (Date,Open,High,Low,Close,Volume), data lines 2..7 of the file."""
    return list(GOOD_ROWS)


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """Write a CSV (default: HEADER + GOOD_ROWS) and return its path."""

    def write(
        rows: list[str] | None = None, *, header: str = HEADER, name: str = "bars.csv"
    ) -> Path:
        path = tmp_path / name
        lines = [header, *(GOOD_ROWS if rows is None else rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry directory for this test only (never the user's real one)."""
    directory = tmp_path / "datasets"
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(directory))
    return directory
