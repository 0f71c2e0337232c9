"""Factories for the strategy tests: hand-made bars and the parameter sets each test sweeps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import load_sample

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DECLARATIVE_EXAMPLES = sorted((EXAMPLES / "strategies").glob("*.yaml"))
PLUGIN_EXAMPLE = EXAMPLES / "plugins" / "momentum.py"

# Built-in parameter sets: the defaults and two others. Grid levels are prices, so they
# depend on the data set (see grid_params).
PARAMETER_SETS: dict[str, list[dict[str, float]]] = {
    "sma_crossover": [{}, {"fast": 5, "slow": 20}, {"fast": 50, "slow": 200}],
    "ema_crossover": [{}, {"fast": 5, "slow": 13}, {"fast": 50, "slow": 200}],
    "macd": [{}, {"fast": 5, "slow": 35, "signal": 5}, {"fast": 3, "slow": 10, "signal": 16}],
    "rsi": [
        {},
        {"period": 7, "oversold": 20, "overbought": 80},
        {"period": 2, "oversold": 10, "overbought": 90},
    ],
    "bollinger": [
        {},
        {"period": 10, "num_std": 1.5, "min_bandwidth": 0.01},
        {"period": 50, "num_std": 2.5},
    ],
    "vwap": [{}, {"threshold": 0.002, "window": 0}, {"threshold": 0.005, "window": 100}],
    "volume_profile": [
        {},
        {"lookback": 20, "bins": 10, "value_area_pct": 0.6},
        {"lookback": 100, "bins": 40, "value_area_pct": 0.8},
    ],
}
GRID_SETS: dict[str, list[dict[str, float]]] = {
    "GOOGL": [
        {"lower": 200.0, "upper": 1300.0, "levels": 23},
        {"lower": 500.0, "upper": 1000.0, "levels": 6},
    ],
    "EURUSD": [
        {"lower": 1.03, "upper": 1.21, "levels": 19},
        {"lower": 1.05, "upper": 1.2, "levels": 61},
    ],
}


TICKERS = ("GOOGL", "EURUSD")


def builtin_cases(ticker: str) -> list[tuple[str, dict[str, float]]]:
    """Every (built-in, parameters) pair to check on ``ticker``'s bundled data."""
    cases = [(name, params) for name, sets in PARAMETER_SETS.items() for params in sets]
    cases += [("grid", params) for params in GRID_SETS[ticker]]
    return cases


def _case_id(ticker: str, name: str, params: dict[str, float]) -> str:
    shown = ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"
    return f"{ticker}-{name}-{shown}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``builtin_case``: (ticker, name, params) for every built-in parameter set on both
    bundled data sets; ``declarative_file``: each example YAML file."""
    if "builtin_case" in metafunc.fixturenames:
        cases = [(t, n, p) for t in TICKERS for n, p in builtin_cases(t)]
        metafunc.parametrize("builtin_case", cases, ids=[_case_id(*c) for c in cases])
    if "declarative_file" in metafunc.fixturenames:
        metafunc.parametrize(
            "declarative_file", DECLARATIVE_EXAMPLES, ids=[p.stem for p in DECLARATIVE_EXAMPLES]
        )


@pytest.fixture(scope="session")
def samples() -> dict[str, pd.DataFrame]:
    """Both bundled data sets, by ticker."""
    return {ticker: load_sample(ticker) for ticker in TICKERS}


def make_bars(
    close: Sequence[float],
    *,
    high: Sequence[float] | None = None,
    low: Sequence[float] | None = None,
    open_: Sequence[float] | None = None,
    volume: Sequence[float] | None = None,
    freq: str = "1D",
    start: str = "2020-01-01",
) -> pd.DataFrame:
    """Bars following the contract from a list of closes (high/low default to the close)."""
    c = np.asarray(close, dtype=np.float64)
    n = c.shape[0]

    def column(values: Sequence[float] | None, fallback: np.ndarray) -> np.ndarray:
        return fallback.copy() if values is None else np.asarray(values, dtype=np.float64)

    frame = pd.DataFrame(
        {
            "open": column(open_, c),
            "high": column(high, c),
            "low": column(low, c),
            "close": c,
            "volume": column(volume, np.full(n, 1000.0)),
        },
        index=pd.date_range(start, periods=n, freq=freq, tz="UTC", name="timestamp"),
    )
    return frame


def random_bars(n: int, seed: int, *, freq: str = "1D", step: float = 0.02) -> pd.DataFrame:
    """A short random walk with consistent OHLC and random volume."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, step, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, step / 2, (2, n)))
    high = np.maximum(open_, close) * (1.0 + spread[0])
    low = np.minimum(open_, close) * (1.0 - spread[1])
    volume = rng.lognormal(7.0, 0.5, n)
    return make_bars(close, high=high, low=low, open_=open_, volume=volume, freq=freq)


@pytest.fixture
def plugin_example() -> Path:
    return PLUGIN_EXAMPLE


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture
def bars_from():
    """``bars_from(closes, high=..., low=..., volume=..., freq=...)``: hand-made bars."""
    return make_bars


@pytest.fixture
def random_walk():
    """``random_walk(n, seed)``: a short random walk of bars."""
    return random_bars
