"""Epoch numbers beyond what a timestamp can hold (years 1677 to 2261) are a DataError naming
the file line and column, in the library, the CLI (exit 2) and the API (see
tests/api/test_hostile_inputs.py), never pandas' OutOfBoundsDatetime."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.data import load_bars
from tradesweep.errors import DataError

HEADER = "timestamp,open,high,low,close,volume\n"
ROW = "{},10,11,9,10.5,100\n"

OUT_OF_RANGE = [
    "1e20",
    "100000000000000000000",
    "-100000000000000000000",
    "9300000000000000000",  # just past int64 nanoseconds
    "1e400",
    "99999999999999999999999999999999",
]


def _csv(tmp_path: Path, stamp: str) -> Path:
    path = tmp_path / "epochs.csv"
    path.write_text(HEADER + ROW.format("1577836800") + ROW.format(stamp))
    return path


@pytest.mark.parametrize("stamp", OUT_OF_RANGE)
def test_an_out_of_range_epoch_names_the_line_and_column(tmp_path: Path, stamp: str) -> None:
    with pytest.raises(DataError) as caught:
        load_bars(_csv(tmp_path, stamp))
    message = str(caught.value)
    assert "line 3" in message and "column 'timestamp'" in message
    assert "outside the epoch range" in message
    assert caught.value.details["line"] == 3


@pytest.mark.parametrize("stamp", ["1577923200", "1577923200000", "1.5779232e9"])
def test_epochs_in_range_still_load(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "ok.csv"
    first = "1577836800000" if stamp.endswith("000") and "." not in stamp else "1577836800"
    path.write_text(HEADER + ROW.format(first) + ROW.format(stamp))
    bars = load_bars(path)
    assert str(bars.index[-1].date()) == "2020-01-02"


def test_the_cli_import_is_exit_2_with_the_same_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    result = CliRunner().invoke(
        app, ["data", "import", str(_csv(tmp_path, "1e20")), "--ticker", "EPOCH"]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "line 3" in lines[0] and "outside the epoch range" in lines[0]
