"""Tickers mapped to Parquet files in a data directory, with a small JSON index.

Layout: ``<data_dir>/index.json`` plus one ``<TICKER>-<id>.parquet`` per dataset. A write
puts the new Parquet file in place under a fresh name, then swaps the index with
``os.replace``; the index swap is the commit, so a failure at any step leaves the previous
entry readable. Writes to one index take turns through a lock file beside it. The bundled
samples are always listed and never copied.

The shared registry may store a dataset under a bundled sample's name (with ``overwrite``): it
shadows the sample until :meth:`DatasetRegistry.remove` brings the sample back.

Tenants: ``<data_dir>`` itself holds the shared datasets (``tradesweep data import``, the
operator's). A registry made with ``tenant=`` is that tenant's view: its own datasets live in
``<data_dir>/tenants/<tenant>/`` (same layout), and a ticker resolves there first, then in the
shared data, then among the bundled samples. It writes only to its own folder and never
replaces a shared or bundled ticker; it never sees another tenant's folder.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import platformdirs

from tradesweep.data.interval import infer_interval, interval_label, relabel
from tradesweep.data.loader import load_bars
from tradesweep.data.samples import load_sample, sample_tickers
from tradesweep.data.validate import validate_bars
from tradesweep.errors import (
    DataError,
    DatasetExists,
    DatasetNotFound,
    DatasetReadOnly,
    TradesweepError,
    did_you_mean,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: writes do not take turns
    fcntl = None  # type: ignore[assignment]

DATA_DIR_ENV = "TRADESWEEP_DATA_DIR"
BUNDLED: Literal["bundled"] = "bundled"
SHARED: Literal["shared"] = "shared"
TENANT: Literal["tenant"] = "tenant"
TENANTS = "tenants"
"""The folder of ``<data_dir>`` that holds one folder per tenant."""
Scope = Literal["tenant", "shared", "bundled"]
_INDEX = "index.json"
_LOCK = ".index.lock"
TICKER_MIN_LEN, TICKER_MAX_LEN = 1, 40
TICKER_RULE = (
    f"{TICKER_MIN_LEN}-{TICKER_MAX_LEN} letters, digits or . _ - = ^, starting with a letter, "
    "a digit or ^"
)
"""The one rule for ticker names (case-insensitive): what ``data import`` and uploads store,
what jobs accept."""
_TICKER = re.compile(rf"^[A-Z0-9^][A-Z0-9._=^-]{{{TICKER_MIN_LEN - 1},{TICKER_MAX_LEN - 1}}}$")
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_ticker(text: str) -> bool:
    """Whether ``text`` (surrounding spaces and case aside) follows :data:`TICKER_RULE`."""
    return _TICKER.fullmatch(text.strip().upper()) is not None


def default_data_dir() -> Path:
    """The platform's user data dir + ``tradesweep/datasets``: the registry of a library user
    who names no directory. The environment is not read here: the CLI, ``serve`` and
    ``worker`` read ``$TRADESWEEP_DATA_DIR`` (:mod:`tradesweep.environment`) and pass it."""
    return Path(platformdirs.user_data_dir("tradesweep")) / "datasets"


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry: what the data is and where it came from. ``tenant``: the tenant
    that holds it (None: shared or bundled); known from where it is stored, not stored."""

    ticker: str
    rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    interval: str | None
    source: str
    synthetic: bool
    imported_at: str | None = None
    file: str | None = None
    tenant: str | None = None

    @property
    def scope(self) -> Scope:
        """``bundled``, ``shared`` (the operator's) or ``tenant`` (one tenant's own)."""
        if self.source == BUNDLED:
            return BUNDLED
        return SHARED if self.tenant is None else TENANT

    @property
    def shadows_sample(self) -> bool:
        """Stored data under a bundled sample's name, read instead of the sample."""
        return self.scope != BUNDLED and self.ticker in sample_tickers()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["tenant"]
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        first, last = pd.Timestamp(data["first"]), pd.Timestamp(data["last"])
        interval = relabel(data.get("interval"))
        return cls(**{**data, "first": first, "last": last, "interval": interval})

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
    """Named datasets on disk; tickers are case-insensitive and stored upper-case.

    ``data_dir``: where they live (None: :func:`default_data_dir`; pass the directory you
    mean, the environment is never consulted). ``tenant``: whose view this is (module
    docstring); None: the shared registry."""

    def __init__(self, data_dir: Path | None = None, *, tenant: int | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.tenant = None if tenant is None else _tenant_key(tenant)

    def for_tenant(self, tenant: int | str | None) -> DatasetRegistry:
        """The same data dir as ``tenant`` sees it (None: the shared registry)."""
        return DatasetRegistry(self.data_dir, tenant=tenant)

    @property
    def root(self) -> Path:
        """Where this registry writes: the data dir, or the tenant's folder in it."""
        if self.tenant is None:
            return self.data_dir
        return self.data_dir / TENANTS / self.tenant

    @property
    def index_path(self) -> Path:
        return self.root / _INDEX

    def tenants(self) -> builtins.list[str]:
        """The tenants that have a folder of their own in the data dir."""
        folder = self.data_dir / TENANTS
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and _TENANT.match(p.name))

    def tickers(self) -> builtins.list[str]:
        return sorted({*sample_tickers(), *self._visible()})

    def info(self, ticker: str) -> DatasetInfo:
        key = self._known(ticker)
        visible = self._visible()
        if key in visible:
            return visible[key]
        return DatasetInfo.describe(load_sample(key), key, BUNDLED)

    def load(self, ticker: str) -> pd.DataFrame:
        """The bars of a registered or bundled ticker, validated again on the way in."""
        info = self.info(ticker)
        key = info.ticker
        if info.scope == BUNDLED:
            return load_sample(key)
        folder = self.root if info.tenant is not None else self.data_dir
        path = folder / str(info.file)
        if not path.is_file():
            again = (
                f"import it again: `tradesweep data import FILE --ticker {key} --overwrite`"
                if info.tenant is None
                else f"upload it again as {key} with overwrite"
            )
            raise DataError(
                f"dataset {key} points to a file that is missing ({path.name})",
                fix=again,
                file=path.name,
                ticker=key,
            )
        bars = load_bars(path, ticker=key)
        bars.attrs["synthetic"] = info.synthetic
        return bars

    def import_file(
        self, path: str | os.PathLike[str], ticker: str, *, overwrite: bool = False
    ) -> DatasetInfo:
        """Validate a CSV/Parquet file with :func:`load_bars` and store it as ``ticker``."""
        key = self.check_writable(ticker, overwrite=overwrite)
        bars = load_bars(path, ticker=key)
        return self._store(
            bars, key, source=str(Path(path).resolve()), synthetic=False, overwrite=overwrite
        )

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
        key = self.check_writable(ticker, overwrite=overwrite)
        validate_bars(df, source=source)
        origin = source or str(df.attrs.get("source") or "frame")
        return self._store(df, key, source=origin, synthetic=synthetic, overwrite=overwrite)

    def list(self) -> builtins.list[DatasetInfo]:
        """Every dataset this registry sees, bundled ones included, sorted by ticker."""
        visible = self._visible()  # each index read once
        return [
            visible[key] if key in visible else DatasetInfo.describe(load_sample(key), key, BUNDLED)
            for key in sorted({*sample_tickers(), *visible})
        ]

    def owned(self) -> builtins.list[DatasetInfo]:
        """Only the datasets stored in :attr:`root` (a tenant's own, or the shared ones)."""
        return [info for _, info in sorted(self._own().items())]

    def check_writable(self, ticker: str, *, overwrite: bool = False) -> str:
        """The stored spelling of ``ticker`` if this registry may write it, else the reason:
        :class:`DataError` (not a valid name), :class:`DatasetReadOnly` (a bundled sample seen
        from a tenant, or shared data seen from a tenant) or :class:`DatasetExists` (without
        ``overwrite``; in the shared registry a bundled sample's name is taken with
        ``overwrite``, shadowing the sample)."""
        key = ticker.strip().upper()
        if not is_ticker(key):
            raise DataError(
                f"ticker {ticker!r} is not a valid name", fix=f"use {TICKER_RULE}", ticker=ticker
            )
        if key in sample_tickers() and self.tenant is not None:
            raise DatasetReadOnly(
                f"{key} is a bundled sample and read-only",
                fix=f"choose another ticker, e.g. {key}_MY",
                ticker=key,
            )
        if key in sample_tickers() and key not in self._own() and not overwrite:
            raise DatasetExists(
                f"{key} is a bundled sample",
                fix=f"use overwrite=true to shadow it with this data "
                f"(`tradesweep data remove {key}` brings the sample back), or choose another "
                f"ticker, e.g. {key}_MY",
                ticker=key,
            )
        if self.tenant is not None and key in self._shared():
            raise DatasetReadOnly(
                f"{key} is shared data of this server and read-only",
                fix=f"choose another ticker, e.g. {key}_MY",
                ticker=key,
            )
        if key in self._own() and not overwrite:
            raise DatasetExists(
                f"ticker {key} already exists",
                fix="use overwrite=true to replace it, or choose another ticker",
                ticker=key,
            )
        return key

    def remove(self, ticker: str) -> DatasetInfo:
        """Delete this registry's own dataset ``ticker`` (its index entry, then its file) and
        return what it was; a bundled sample it shadowed is seen again. A bundled sample, or
        shared data seen from a tenant: :class:`DatasetReadOnly`; else unknown:
        :class:`DatasetNotFound`. Whether a job still reads it is the caller's to check."""
        key = ticker.strip().upper()
        with _locked(self.root) if self.root.is_dir() else contextlib.nullcontext():
            entries = self._own()
            info = entries.pop(key, None)
            if info is None:
                self._refuse_removal(ticker, key)
            self._write_entries(entries)
        assert info is not None
        if info.file:
            (self.root / info.file).unlink(missing_ok=True)
        return info

    def _refuse_removal(self, ticker: str, key: str) -> None:
        if self.tenant is not None and key in self._shared():
            raise DatasetReadOnly(
                f"{key} is shared data of this server and read-only",
                fix="only the operator removes it, with `tradesweep data remove`",
                ticker=key,
            )
        if key in sample_tickers():
            raise DatasetReadOnly(
                f"{key} is a bundled sample and cannot be removed",
                fix="only data imported under its name can be removed",
                ticker=key,
            )
        self._known(ticker)  # raises DatasetNotFound with a did-you-mean
        raise DatasetNotFound(f"unknown ticker '{ticker}'", ticker=ticker)

    def _store(
        self, bars: pd.DataFrame, key: str, *, source: str, synthetic: bool, overwrite: bool
    ) -> DatasetInfo:
        root = self.root
        root.mkdir(parents=True, exist_ok=True)
        name = f"{key}-{uuid.uuid4().hex[:12]}.parquet"
        target = root / name
        stored = bars.copy()
        stored.attrs = {"ticker": key, "synthetic": synthetic}
        _write_atomic(target, lambda tmp: stored.to_parquet(tmp))
        try:
            with _locked(root):
                self.check_writable(key, overwrite=overwrite)  # again, now that it is our turn
                entries = self._own()
                previous = entries.get(key)
                info = DatasetInfo.describe(
                    stored,
                    key,
                    source,
                    imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    file=name,
                    tenant=self.tenant,
                )
                entries[key] = info
                self._write_entries(entries)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if previous is not None and previous.file and previous.file != name:
            (root / previous.file).unlink(missing_ok=True)
        return info

    def _own(self) -> dict[str, DatasetInfo]:
        entries = _read_index(self.index_path, self.data_dir)
        if self.tenant is None:
            return entries
        return {k: dataclasses.replace(v, tenant=self.tenant) for k, v in entries.items()}

    def _shared(self) -> dict[str, DatasetInfo]:
        if self.tenant is None:
            return self._own()
        return _read_index(self.data_dir / _INDEX, self.data_dir)

    def _visible(self) -> dict[str, DatasetInfo]:
        """Shared entries overlaid with this tenant's own (its own win)."""
        if self.tenant is None:
            return self._own()
        return {**self._shared(), **self._own()}

    def _write_entries(self, entries: dict[str, DatasetInfo]) -> None:
        payload = {"version": 1, "datasets": [entries[k].to_dict() for k in sorted(entries)]}
        text = json.dumps(payload, indent=2)
        _write_atomic(self.index_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def _known(self, ticker: str) -> str:
        key = ticker.strip().upper()
        known = self.tickers()
        if key not in known:
            hint = did_you_mean(key, known, n=3, cutoff=0.5, quote="")
            raise DatasetNotFound(
                f"unknown ticker '{ticker}'",
                fix=f"{hint}known: {', '.join(known)}; add one with "
                "`tradesweep data import FILE --ticker NAME`",
                ticker=ticker,
                known=known,
            )
        return key


def _tenant_key(tenant: int | str) -> str:
    key = str(tenant)
    if isinstance(tenant, bool) or not _TENANT.match(key):
        raise TradesweepError(
            f"tenant {key[:70]!r} cannot name a dataset folder",
            fix="use a tenant id: 1-64 letters, digits, _ or -",
            tenant=key[:70],
        )
    return key


def _read_index(path: Path, data_dir: Path) -> dict[str, DatasetInfo]:
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {item["ticker"]: DatasetInfo.from_dict(item) for item in raw["datasets"]}
    except (ValueError, KeyError, TypeError) as exc:
        where = path.relative_to(data_dir)  # never the server's full path: tenants see this
        raise DataError(
            f"dataset index {where} of the data dir is damaged ({exc})",
            fix=f"delete it and import the datasets again, or set {DATA_DIR_ENV}",
            file=str(where),
        ) from None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the lock of ``folder``'s index (an exclusive ``flock`` on a file beside it)."""
    with open(folder / _LOCK, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # the lock goes with the file's close


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
