"""Tickers mapped to Parquet files in a data directory, with a small JSON index.

Layout: ``<data_dir>/index.json`` plus one ``<TICKER>-<id>.parquet`` per dataset. A write
puts the new Parquet file in place under a fresh name, then swaps the index with
``os.replace``; the index swap is the commit, so a failure at any step leaves the previous
entry readable. The bundled samples are always listed and never copied.
"""

from __future__ import annotations

import builtins
import difflib
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import platformdirs

from tradesweep.data.interval import infer_interval, interval_label
from tradesweep.data.loader import load_bars
from tradesweep.data.samples import load_sample, sample_tickers
from tradesweep.data.validate import validate_bars
from tradesweep.errors import DataError, DatasetNotFound

DATA_DIR_ENV = "TRADESWEEP_DATA_DIR"
BUNDLED = "bundled"
_INDEX = "index.json"
_TICKER = re.compile(r"^[A-Z0-9^][A-Z0-9._=^-]{0,39}$")


def default_data_dir() -> Path:
    """``$TRADESWEEP_DATA_DIR``, else the platform's user data dir + ``tradesweep/datasets``."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("tradesweep")) / "datasets"


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry: what the data is and where it came from."""

    ticker: str
    rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    interval: str | None
    source: str
    synthetic: bool
    imported_at: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        return cls(
            **{**data, "first": pd.Timestamp(data["first"]), "last": pd.Timestamp(data["last"])}
        )

    @classmethod
    def describe(cls, bars: pd.DataFrame, ticker: str, source: str, **extra: Any) -> DatasetInfo:
        interval = interval_label(infer_interval(bars.index)) if len(bars) > 1 else None
        return cls(
            ticker=ticker,
            rows=len(bars),
            first=bars.index[0],
            last=bars.index[-1],
            interval=interval,
            source=source,
            synthetic=bool(bars.attrs.get("synthetic", False)),
            **extra,
        )


class DatasetRegistry:
    """Named datasets on disk; tickers are case-insensitive and stored upper-case."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()

    @property
    def index_path(self) -> Path:
        return self.data_dir / _INDEX

    def tickers(self) -> builtins.list[str]:
        return sorted({*sample_tickers(), *self._entries()})

    def info(self, ticker: str) -> DatasetInfo:
        key = self._known(ticker)
        if key in sample_tickers():
            return DatasetInfo.describe(load_sample(key), key, BUNDLED)
        return self._entries()[key]

    def load(self, ticker: str) -> pd.DataFrame:
        """The bars of a registered or bundled ticker, validated again on the way in."""
        key = self._known(ticker)
        if key in sample_tickers():
            return load_sample(key)
        entry = self._entries()[key]
        path = self.data_dir / str(entry.file)
        if not path.is_file():
            raise DataError(
                f"dataset {key} points to {path}, which is missing",
                fix=f"import it again: tradesweep data import FILE --ticker {key} --overwrite",
                file=str(path),
                ticker=key,
            )
        bars = load_bars(path, ticker=key)
        bars.attrs["synthetic"] = entry.synthetic
        return bars

    def import_file(
        self, path: str | os.PathLike[str], ticker: str, *, overwrite: bool = False
    ) -> DatasetInfo:
        """Validate a CSV/Parquet file with :func:`load_bars` and store it as ``ticker``."""
        key = self._writable(ticker, overwrite)
        bars = load_bars(path, ticker=key)
        return self._store(bars, key, source=str(Path(path).resolve()), synthetic=False)

    def register_frame(
        self,
        df: pd.DataFrame,
        ticker: str,
        *,
        synthetic: bool = False,
        overwrite: bool = False,
        source: str | None = None,
    ) -> DatasetInfo:
        """Store an in-memory frame that passes :func:`validate_bars` as ``ticker``."""
        key = self._writable(ticker, overwrite)
        validate_bars(df, source=source)
        origin = source or str(df.attrs.get("source") or "frame")
        return self._store(df, key, source=origin, synthetic=synthetic)

    def list(self) -> builtins.list[DatasetInfo]:
        """Every dataset, bundled ones included, sorted by ticker."""
        return [self.info(ticker) for ticker in self.tickers()]

    def _store(self, bars: pd.DataFrame, key: str, *, source: str, synthetic: bool) -> DatasetInfo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        name = f"{key}-{uuid.uuid4().hex[:12]}.parquet"
        target = self.data_dir / name
        stored = bars.copy()
        stored.attrs = {"ticker": key, "synthetic": synthetic}
        _write_atomic(target, lambda tmp: stored.to_parquet(tmp))
        entries = self._entries()
        previous = entries.get(key)
        info = DatasetInfo.describe(
            stored,
            key,
            source,
            imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            file=name,
        )
        entries[key] = info
        try:
            self._write_entries(entries)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if previous is not None and previous.file and previous.file != name:
            (self.data_dir / previous.file).unlink(missing_ok=True)
        return info

    def _entries(self) -> dict[str, DatasetInfo]:
        if not self.index_path.is_file():
            return {}
        try:
            raw = json.loads(self.index_path.read_text(encoding="utf-8"))
            return {item["ticker"]: DatasetInfo.from_dict(item) for item in raw["datasets"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(
                f"dataset index {self.index_path} is damaged ({exc})",
                fix=f"delete it and import the datasets again, or set {DATA_DIR_ENV}",
                file=str(self.index_path),
            ) from None

    def _write_entries(self, entries: dict[str, DatasetInfo]) -> None:
        payload = {"version": 1, "datasets": [entries[k].to_dict() for k in sorted(entries)]}
        text = json.dumps(payload, indent=2)
        _write_atomic(self.index_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def _known(self, ticker: str) -> str:
        key = ticker.strip().upper()
        known = self.tickers()
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise DatasetNotFound(
                f"unknown ticker '{ticker}'",
                fix=f"{hint}known: {', '.join(known)}; add one with "
                "`tradesweep data import FILE --ticker NAME`",
                ticker=ticker,
                known=known,
            )
        return key

    def _writable(self, ticker: str, overwrite: bool) -> str:
        key = ticker.strip().upper()
        if not _TICKER.match(key):
            raise DataError(
                f"ticker {ticker!r} is not a valid name",
                fix="use 1-40 letters, digits or . _ - = ^, starting with a letter or digit",
                ticker=ticker,
            )
        if key in sample_tickers():
            raise DataError(
                f"{key} is a bundled sample and cannot be replaced",
                fix=f"choose another ticker, e.g. {key}_MY",
                ticker=key,
            )
        if key in self._entries() and not overwrite:
            raise DataError(
                f"ticker {key} already exists",
                fix="use --overwrite (overwrite=True) to replace it, or choose another ticker",
                ticker=key,
            )
        return key


def load(
    ticker_or_path: str | os.PathLike[str], *, registry: DatasetRegistry | None = None
) -> pd.DataFrame:
    """Bars from a registered/bundled ticker or from a file.

    A ``Path``, or a string with a file extension or a path separator, is a file; any
    other string is a ticker.
    """
    if isinstance(ticker_or_path, str) and not _looks_like_path(ticker_or_path):
        return (registry or DatasetRegistry()).load(ticker_or_path)
    return load_bars(ticker_or_path)


def _looks_like_path(text: str) -> bool:
    return (
        "/" in text
        or os.sep in text
        or Path(text).suffix.lower()
        in {
            ".csv",
            ".parquet",
            ".pq",
            ".txt",
            ".tsv",
            ".gz",
        }
    )


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
