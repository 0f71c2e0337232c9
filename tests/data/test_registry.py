"""The dataset registry: import, list, load, overwrite rules and atomic writes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tradesweep.data import DatasetRegistry, default_data_dir, load_bars, synthetic_bars
from tradesweep.errors import (
    DataError,
    DatasetExists,
    DatasetNotFound,
    DatasetReadOnly,
    TradesweepError,
)

WriteCsv = Callable[..., Path]


def test_the_data_dir_is_given_never_read_from_the_environment(data_dir: Path) -> None:
    # the data_dir fixture sets $TRADESWEEP_DATA_DIR; only the edge reads it
    assert DatasetRegistry(data_dir).data_dir == data_dir
    assert DatasetRegistry().data_dir == default_data_dir() != data_dir


def test_bundled_samples_are_listed_without_copying(data_dir: Path) -> None:
    registry = DatasetRegistry(data_dir)
    listed = {info.ticker: info for info in registry.list()}
    assert set(listed) == {"EURUSD", "GOOGL"}
    assert listed["GOOGL"].rows == 2335
    assert listed["GOOGL"].interval == "1D"
    assert listed["EURUSD"].interval == "1h"
    assert listed["EURUSD"].source == "bundled"
    assert not data_dir.exists()


def test_import_list_info_and_load(write_csv: WriteCsv, data_dir: Path) -> None:
    registry = DatasetRegistry(data_dir)
    path = write_csv()
    info = registry.import_file(path, "abc")
    assert (info.ticker, info.rows, info.interval, info.synthetic) == ("ABC", 6, "1D", False)
    assert info.first == pd.Timestamp("2020-01-01", tz="UTC")
    assert info.source == str(path.resolve())
    assert [i.ticker for i in registry.list()] == ["ABC", "EURUSD", "GOOGL"]
    assert DatasetRegistry(data_dir).info("Abc") == info
    bars = registry.load("ABC")
    pd.testing.assert_frame_equal(bars, load_bars(path), check_freq=False)
    assert bars.attrs["ticker"] == "ABC"
    assert bars.attrs["synthetic"] is False
    stored = json.loads((data_dir / "index.json").read_text())
    assert stored["datasets"][0]["ticker"] == "ABC"


def test_existing_ticker_needs_overwrite(
    write_csv: WriteCsv, data_dir: Path, good_rows: list[str]
) -> None:
    registry = DatasetRegistry(data_dir)
    registry.import_file(write_csv(), "ABC")
    with pytest.raises(DataError, match="already exists"):
        registry.import_file(write_csv(good_rows[:3]), "abc")
    assert registry.info("ABC").rows == 6
    assert registry.import_file(write_csv(good_rows[:3]), "abc", overwrite=True).rows == 3
    assert registry.load("ABC").shape[0] == 3
    assert len(list(data_dir.glob("*.parquet"))) == 1


def test_a_bundled_name_is_shadowed_only_with_overwrite(
    write_csv: WriteCsv, data_dir: Path
) -> None:
    registry = DatasetRegistry(data_dir)
    with pytest.raises(DatasetExists, match="bundled sample") as refused:
        registry.import_file(write_csv(), "googl")
    assert "overwrite=true" in str(refused.value)
    info = registry.import_file(write_csv(), "googl", overwrite=True)
    assert (info.ticker, info.scope, info.shadows_sample) == ("GOOGL", "shared", True)
    assert registry.info("GOOGL").rows == 6
    assert registry.load("GOOGL").shape[0] == 6
    assert [i.ticker for i in registry.list()].count("GOOGL") == 1
    assert registry.tenants() == []
    tenant = registry.for_tenant(4)
    assert tenant.info("GOOGL").rows == 6  # the operator's data, for every tenant
    assert not DatasetRegistry(data_dir).info("EURUSD").shadows_sample


def test_removing_a_shadowing_dataset_brings_the_sample_back(
    write_csv: WriteCsv, data_dir: Path, googl: pd.DataFrame
) -> None:
    registry = DatasetRegistry(data_dir)
    registry.import_file(write_csv(), "GOOGL", overwrite=True)
    removed = registry.remove("googl")
    assert removed.rows == 6 and removed.shadows_sample
    info = registry.info("GOOGL")
    assert (info.scope, info.rows) == ("bundled", len(googl))
    assert list(data_dir.glob("*.parquet")) == []


def test_remove_refuses_samples_unknown_and_others_tickers(
    write_csv: WriteCsv, data_dir: Path
) -> None:
    shared = DatasetRegistry(data_dir)
    with pytest.raises(DatasetReadOnly, match="bundled sample"):
        shared.remove("EURUSD")
    with pytest.raises(DatasetNotFound, match="unknown ticker"):
        shared.remove("NOPE")
    shared.import_file(write_csv(), "OPS")
    tenant = shared.for_tenant(5)
    with pytest.raises(DatasetReadOnly, match="shared data"):
        tenant.remove("OPS")
    tenant.import_file(write_csv(), "MINE")
    assert tenant.remove("MINE").ticker == "MINE"
    assert tenant.tickers() == ["EURUSD", "GOOGL", "OPS"]


def test_bundled_tickers_are_shadowed_only_with_overwrite(
    write_csv: WriteCsv, data_dir: Path
) -> None:
    with pytest.raises(DataError, match="bundled sample"):
        DatasetRegistry(data_dir).import_file(write_csv(), "googl")
    with pytest.raises(DataError, match="bundled sample"):  # a tenant may not (yet)
        DatasetRegistry(data_dir, tenant="acme").import_file(write_csv(), "googl", overwrite=True)
    info = DatasetRegistry(data_dir).import_file(write_csv(), "googl", overwrite=True)
    assert info.scope == "shared"
    assert (
        DatasetRegistry(data_dir).info("GOOGL").scope == "shared"
    )  # the operator's data shadows it
    assert len(DatasetRegistry(data_dir).load("GOOGL")) == info.rows


def test_invalid_ticker_names(write_csv: WriteCsv, data_dir: Path) -> None:
    for bad in ("", "../x", "a b", "x" * 41):
        with pytest.raises(DataError, match="not a valid name"):
            DatasetRegistry(data_dir).import_file(write_csv(), bad)


def test_failed_import_keeps_the_old_data(
    write_csv: WriteCsv, data_dir: Path, good_rows: list[str]
) -> None:
    registry = DatasetRegistry(data_dir)
    registry.import_file(write_csv(), "ABC")
    before = registry.load("ABC")
    bad = [*good_rows[:2], "2020-01-03,1,1,1,abc,1"]
    with pytest.raises(DataError, match="'abc' is not a finite number"):
        registry.import_file(write_csv(bad, name="bad.csv"), "ABC", overwrite=True)
    pd.testing.assert_frame_equal(registry.load("ABC"), before)


def test_crash_while_writing_keeps_the_old_data(
    write_csv: WriteCsv, data_dir: Path, monkeypatch: pytest.MonkeyPatch, good_rows: list[str]
) -> None:
    registry = DatasetRegistry(data_dir)
    registry.import_file(write_csv(), "ABC")
    before = registry.load("ABC")
    files_before = sorted(p.name for p in data_dir.iterdir())

    def crash(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    shorter = write_csv(good_rows[:3], name="shorter.csv")
    monkeypatch.setattr(Path, "write_text", crash)
    with pytest.raises(OSError, match="disk full"):
        registry.import_file(shorter, "ABC", overwrite=True)
    monkeypatch.undo()
    assert sorted(p.name for p in data_dir.iterdir()) == files_before
    pd.testing.assert_frame_equal(DatasetRegistry(data_dir).load("ABC"), before)


def test_register_frame_keeps_the_synthetic_label(data_dir: Path) -> None:
    registry = DatasetRegistry(data_dir)
    info = registry.register_frame(synthetic_bars(300, interval="1h"), "syn", synthetic=True)
    assert (info.ticker, info.rows, info.interval, info.synthetic) == ("SYN", 300, "1h", True)
    bars = registry.load("syn")
    assert bars.attrs["synthetic"] is True
    pd.testing.assert_frame_equal(bars, synthetic_bars(300, interval="1h"), check_freq=False)


def test_register_frame_validates(data_dir: Path) -> None:
    bars = synthetic_bars(10)
    bars.iloc[3, 1] = 0.5
    with pytest.raises(DataError, match="row 4"):
        DatasetRegistry(data_dir).register_frame(bars, "X")


def test_unknown_ticker_suggests_known_ones(data_dir: Path) -> None:
    with pytest.raises(DatasetNotFound, match="did you mean GOOGL") as info:
        DatasetRegistry(data_dir).load("GOGL")
    assert "EURUSD" in str(info.value)


def test_damaged_index_is_reported(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "index.json").write_text("{not json")
    with pytest.raises(DataError, match="damaged"):
        DatasetRegistry(data_dir).list()


def test_missing_parquet_is_reported(write_csv: WriteCsv, data_dir: Path) -> None:
    registry = DatasetRegistry(data_dir)
    registry.import_file(write_csv(), "ABC")
    for file in data_dir.glob("*.parquet"):
        file.unlink()
    with pytest.raises(DataError, match="missing"):
        registry.load("ABC")


# ---- tenants: each has its own folder; shared data is read-only to them ------------------


def test_a_tenant_sees_its_own_then_shared_then_bundled(
    write_csv: WriteCsv, data_dir: Path, good_rows: list[str]
) -> None:
    shared = DatasetRegistry(data_dir)
    shared.import_file(write_csv(), "OPS")
    alpha, beta = shared.for_tenant(1), shared.for_tenant(2)
    alpha.import_file(write_csv(good_rows[:3]), "MINE")
    assert alpha.tickers() == ["EURUSD", "GOOGL", "MINE", "OPS"]
    assert beta.tickers() == ["EURUSD", "GOOGL", "OPS"]
    assert shared.tickers() == ["EURUSD", "GOOGL", "OPS"]
    assert {i.ticker: i.scope for i in alpha.list()} == {
        "EURUSD": "bundled",
        "GOOGL": "bundled",
        "MINE": "tenant",
        "OPS": "shared",
    }
    assert alpha.info("mine").tenant == "1"
    assert (data_dir / "tenants" / "1" / "index.json").is_file()
    assert alpha.load("MINE").shape[0] == 3
    assert alpha.load("OPS").shape[0] == 6
    with pytest.raises(DatasetNotFound):
        beta.load("MINE")
    assert shared.tenants() == ["1"]
    assert [i.ticker for i in alpha.owned()] == ["MINE"]


def test_tenants_keep_apart_datasets_of_the_same_name(
    write_csv: WriteCsv, data_dir: Path, good_rows: list[str]
) -> None:
    alpha, beta = DatasetRegistry(data_dir, tenant=1), DatasetRegistry(data_dir, tenant=2)
    alpha.import_file(write_csv(), "SAME")
    beta.import_file(write_csv(good_rows[:4]), "SAME")
    assert (alpha.info("SAME").rows, beta.info("SAME").rows) == (6, 4)
    beta.import_file(write_csv(good_rows[:3]), "SAME", overwrite=True)
    assert (alpha.load("SAME").shape[0], beta.load("SAME").shape[0]) == (6, 3)


def test_a_tenant_cannot_write_shared_or_bundled_tickers(
    write_csv: WriteCsv, data_dir: Path
) -> None:
    DatasetRegistry(data_dir).import_file(write_csv(), "OPS")
    tenant = DatasetRegistry(data_dir, tenant=7)
    for ticker in ("OPS", "googl"):
        with pytest.raises(DatasetReadOnly, match="read-only"):
            tenant.import_file(write_csv(), ticker, overwrite=True)
    tenant.import_file(write_csv(), "OWN")
    with pytest.raises(DatasetExists, match="already exists"):
        tenant.import_file(write_csv(), "OWN")


@pytest.mark.parametrize("tenant", ["../x", "", "a/b", True, "x" * 65])
def test_a_tenant_must_name_a_folder(data_dir: Path, tenant: object) -> None:
    with pytest.raises(TradesweepError, match="cannot name a dataset folder"):
        DatasetRegistry(data_dir, tenant=tenant)  # type: ignore[arg-type]


def test_concurrent_imports_into_one_index_all_land(data_dir: Path) -> None:
    """Index writes take turns (a lock beside the index): none is lost to another's write,
    and of two imports of one new ticker without overwrite exactly one wins."""
    registry = DatasetRegistry(data_dir, tenant=3)
    frame = synthetic_bars(50, seed=1)
    names = [f"T{i:02d}" for i in range(12)] + ["DUP", "DUP"]
    start = threading.Barrier(len(names))
    outcomes: dict[int, str] = {}

    def run(i: int, ticker: str) -> None:
        start.wait()
        try:
            registry.register_frame(frame, ticker)
            outcomes[i] = "stored"
        except DatasetExists:
            outcomes[i] = "exists"

    threads = [threading.Thread(target=run, args=item) for item in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(i.ticker for i in registry.owned()) == sorted(set(names))
    assert sorted(outcomes.values()) == ["exists"] + ["stored"] * 13
    assert len(list(registry.root.glob("*.parquet"))) == 13  # the loser's file is removed
