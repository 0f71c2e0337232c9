"""Shared fixtures: the bundled real datasets, loaded once per session."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesweep.data import load_sample


@pytest.fixture(scope="session")
def googl() -> pd.DataFrame:
    return load_sample("GOOGL")


@pytest.fixture(scope="session")
def eurusd() -> pd.DataFrame:
    return load_sample("EURUSD")


@pytest.fixture(scope="session", params=["GOOGL", "EURUSD"])
def sample_bars(request: pytest.FixtureRequest) -> pd.DataFrame:
    """Each bundled dataset in turn."""
    return load_sample(request.param)
