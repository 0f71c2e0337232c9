"""The bundled sample datasets (real market data shipped inside the package)."""

from __future__ import annotations

from functools import cache
from importlib.resources import as_file, files

import pandas as pd

from tradesweep.data.loader import load_bars
from tradesweep.errors import DatasetNotFound, did_you_mean

_FILES: dict[str, str] = {"GOOGL": "GOOGL_1d.csv", "EURUSD": "EURUSD_1h.csv"}


def sample_tickers() -> list[str]:
    """Tickers of the bundled samples, sorted."""
    return sorted(_FILES)


def load_sample(ticker: str) -> pd.DataFrame:
    """Load a bundled sample (``"GOOGL"`` daily, ``"EURUSD"`` hourly; any case).

    Returns a fresh copy each call, with ``attrs["source"] == "bundled:<TICKER>"``.
    """
    key = ticker.strip().upper()
    if key not in _FILES:
        hint = did_you_mean(key, _FILES, cutoff=0.5, quote="")
        raise DatasetNotFound(
            f"no bundled sample '{ticker}'",
            fix=f"{hint}bundled samples: {', '.join(sample_tickers())}",
            ticker=ticker,
        )
    bars = _load(key).copy()
    bars.attrs = {"ticker": key, "source": f"bundled:{key}", "synthetic": False}
    return bars


@cache
def _load(ticker: str) -> pd.DataFrame:
    resource = files("tradesweep.data") / "samples" / _FILES[ticker]
    with as_file(resource) as path:
        return load_bars(path, ticker=ticker)
