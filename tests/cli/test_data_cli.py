"""``tradesweep data ...`` through the real app: exit codes and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.data import DatasetRegistry, synthetic_bars

GOOD = (
    "Date,Open,High,Low,Close,Volume\n"
    "2020-01-01,10.0,11.0,9.0,10.5,1000\n"
    "2020-01-02,10.5,12.0,10.0,11.5,1100\n"
    "2020-01-03,11.5,11.8,10.9,11.0,900\n"
)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    return CliRunner()


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    path = tmp_path / "abc.csv"
    path.write_text(GOOD)
    return path


def _one_line_error(output: str, *words: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


def test_list_shows_the_bundled_samples(runner: CliRunner) -> None:
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0, result.output
    for text in ("GOOGL", "2,335", "2009-05-22", "EURUSD", "6,225", "2017-01-01 22:00", "1h"):
        assert text in result.output


def test_import_then_show(runner: CliRunner, good_csv: Path) -> None:
    result = runner.invoke(app, ["data", "import", str(good_csv), "--ticker", "abc"])
    assert result.exit_code == 0, result.output
    assert "imported ABC: 3 rows, 2020-01-01 .. 2020-01-03 UTC (1D)" in result.output
    shown = runner.invoke(app, ["data", "show", "abc", "--rows", "1"])
    assert shown.exit_code == 0, shown.output
    for text in ("ABC", "rows", "3", "market", str(good_csv.resolve().name), "10.5", "11", "..."):
        assert text in shown.output
    assert "ABC" in runner.invoke(app, ["data", "list"]).output


def test_import_refuses_an_existing_ticker_without_overwrite(
    runner: CliRunner, good_csv: Path
) -> None:
    assert runner.invoke(app, ["data", "import", str(good_csv), "-t", "ABC"]).exit_code == 0
    again = runner.invoke(app, ["data", "import", str(good_csv), "-t", "ABC"])
    assert again.exit_code == 2
    _one_line_error(again.output, "already exists", "--overwrite")
    forced = runner.invoke(app, ["data", "import", str(good_csv), "-t", "ABC", "--overwrite"])
    assert forced.exit_code == 0, forced.output


def test_bad_file_is_one_line_with_line_and_column(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(GOOD.replace("11.5,1100", "abc,1100"))
    result = runner.invoke(app, ["data", "import", str(path), "--ticker", "BAD"])
    assert result.exit_code == 2
    _one_line_error(
        result.output, "bad.csv", "line 3 (header is line 1)", "column 'Close'", "'abc'"
    )


def test_missing_file_and_unknown_ticker(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["data", "import", str(tmp_path / "nope.csv"), "-t", "X"])
    assert missing.exit_code == 2
    _one_line_error(missing.output, "no such file")
    unknown = runner.invoke(app, ["data", "show", "GOGL"])
    assert unknown.exit_code == 2
    _one_line_error(unknown.output, "unknown ticker 'GOGL'", "did you mean GOOGL")


def test_synth_registers_a_labelled_dataset(runner: CliRunner, tmp_path: Path) -> None:
    args = ["data", "synth", "--bars", "2000", "--seed", "7", "--ticker", "syn", "--interval", "1h"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "registered SYN: 2,000 synthetic bars (seed 7)" in result.output
    info = DatasetRegistry(tmp_path / "datasets").info("SYN")  # the dir the runner's env names
    assert (info.rows, info.interval, info.synthetic) == (2000, "1h", True)
    shown = runner.invoke(app, ["data", "show", "SYN", "--rows", "0"])
    assert shown.exit_code == 0
    assert "synthetic" in shown.output
    listed = runner.invoke(app, ["data", "list"]).output
    assert "synthetic" in listed


def test_synth_bad_interval_is_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["data", "synth", "--bars", "10", "--interval", "fortnight"])
    assert result.exit_code == 2
    _one_line_error(result.output, "unknown bar rule 'fortnight'")


def test_show_of_a_bundled_sample(runner: CliRunner) -> None:
    result = runner.invoke(app, ["data", "show", "eurusd"])
    assert result.exit_code == 0, result.output
    for text in ("EURUSD", "6,225", "2017-01-01 22:00", "2017-12-29 21:00", "bundled", "1.05236"):
        assert text in result.output


def test_list_shows_each_tenants_uploads_with_their_owner(
    runner: CliRunner, tmp_path: Path
) -> None:
    from tradesweep.data import synthetic_bars

    DatasetRegistry(tmp_path / "datasets", tenant=7).register_frame(synthetic_bars(30), "UPLOADED")
    listed = runner.invoke(app, ["data", "list"]).output
    row = next(line for line in listed.splitlines() if "UPLOADED" in line)
    assert "tenant 7" in row
    assert "shared" in next(line for line in listed.splitlines() if "GOOGL" in line)


def test_import_of_pandas_to_csv_output(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "frame.csv"
    path.write_text(",Open,High,Low,Close,Volume\n" + GOOD.split("\n", 1)[1])
    result = runner.invoke(app, ["data", "import", str(path), "--ticker", "frame"])
    assert result.exit_code == 0, result.output
    assert "imported FRAME: 3 rows, 2020-01-01 .. 2020-01-03 UTC (1D)" in result.output


def test_monthly_data_shows_as_1m_and_weekly_as_1w(runner: CliRunner, tmp_path: Path) -> None:
    for name, freq, label in (("monthly", "MS", "1M"), ("weekly", "W-FRI", "1W")):
        bars = synthetic_bars(30, seed=3)
        bars.index = pd.date_range("2015-01-01", periods=30, freq=freq, tz="UTC", name="Date")
        path = tmp_path / f"{name}.csv"
        bars.to_csv(path)
        result = runner.invoke(app, ["data", "import", str(path), "--ticker", name])
        assert result.exit_code == 0, result.output
        assert f"UTC ({label})" in result.output
        listed = runner.invoke(app, ["data", "list"])
        row = next(line for line in listed.output.splitlines() if name.upper() in line)
        assert f" {label} " in row, row


def test_an_interval_stored_by_an_older_version_is_shown_in_the_new_spelling(
    runner: CliRunner, tmp_path: Path
) -> None:
    bars = synthetic_bars(30, seed=3)
    bars.index = pd.date_range("2015-01-01", periods=30, freq="MS", tz="UTC", name="Date")
    registry = DatasetRegistry(tmp_path / "datasets")
    registry.register_frame(bars, "OLDM", source="m.csv")
    index = tmp_path / "datasets" / "index.json"
    index.write_text(index.read_text().replace('"1M"', '"31D"'))
    assert DatasetRegistry(tmp_path / "datasets").info("OLDM").interval == "1M"


def _eurusd_2024(tmp_path: Path) -> Path:
    bars = synthetic_bars(48, seed=11, interval="1h", start="2024-02-01", s0=1.08)
    bars.index.name = "Date"
    path = tmp_path / "eurusd_2024.csv"
    bars.to_csv(path)
    return path


def test_own_data_shadows_a_bundled_sample_until_removed(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRADESWEEP_DATABASE_URL", raising=False)
    path = _eurusd_2024(tmp_path)
    refused = runner.invoke(app, ["data", "import", str(path), "--ticker", "EURUSD"])
    assert refused.exit_code == 2
    _one_line_error(refused.output, "bundled sample", "--overwrite")
    result = runner.invoke(app, ["data", "import", str(path), "-t", "EURUSD", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "imported EURUSD: 48 rows, 2024-02-01 00:00 .. 2024-02-02 23:00 UTC (1h)" in (
        result.output
    )
    assert "shadows the bundled sample" in result.output
    assert "tradesweep data remove EURUSD" in result.output
    listed = runner.invoke(app, ["data", "list"]).output
    row = next(line for line in listed.splitlines() if "EURUSD" in line)
    assert "48" in row and "shadows bundled" in row, row
    assert "2024-02-01" in runner.invoke(app, ["data", "show", "EURUSD", "-n", "1"]).output
    removed = runner.invoke(app, ["data", "remove", "eurusd"])
    assert removed.exit_code == 0, removed.output
    assert "removed EURUSD (48 rows); the bundled sample EURUSD is back" in removed.output
    listed = runner.invoke(app, ["data", "list"]).output
    row = next(line for line in listed.splitlines() if "EURUSD" in line)
    assert "6,225" in row and "shadows" not in row, row


def test_remove_of_a_sample_or_unknown_ticker_is_one_line(runner: CliRunner) -> None:
    sample = runner.invoke(app, ["data", "remove", "GOOGL"])
    assert sample.exit_code == 2
    _one_line_error(sample.output, "GOOGL", "bundled sample")
    unknown = runner.invoke(app, ["data", "remove", "NOPE"])
    assert unknown.exit_code == 2
    _one_line_error(unknown.output, "unknown ticker 'NOPE'")


@pytest.mark.parametrize("status", ["queued", "running"])
def test_remove_is_refused_while_a_job_uses_the_dataset(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    sessions: sessionmaker[Session],
    status: str,
) -> None:
    from tradesweep.store import JobRepository, JobStatus, JobType, TenantRepository

    path = _eurusd_2024(tmp_path)
    assert (
        runner.invoke(app, ["data", "import", str(path), "-t", "EURUSD", "--overwrite"]).exit_code
        == 0
    )
    with sessions.begin() as s:
        tenant = TenantRepository(s).get_or_create("acme")
        job, _ = JobRepository(s).create(tenant.id, JobType.BACKTEST, {}, ticker="EURUSD")
        job.status = JobStatus(status)
        JobRepository(s).create(tenant.id, JobType.SWEEP, {}, ticker="GOOGL")  # another ticker
        job_id = job.id
    monkeypatch.setenv("TRADESWEEP_DATABASE_URL", db_url)
    refused = runner.invoke(app, ["data", "remove", "EURUSD"])
    assert refused.exit_code == 2, refused.output
    _one_line_error(refused.output, "EURUSD", f"{status} job {job_id}")
    assert runner.invoke(app, ["data", "show", "EURUSD", "-n", "0"]).output.count("48") == 1
    with sessions.begin() as s:
        s.get(type(job), job_id).status = JobStatus.COMPLETED
    removed = runner.invoke(app, ["data", "remove", "EURUSD"])
    assert removed.exit_code == 0, removed.output
