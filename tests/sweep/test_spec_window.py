"""A sweep spec's window (``start``, ``end``, ``timeframe``) as in a backtest spec: the sweep
runs on the windowed bars, and a spec without one keeps its id."""

from __future__ import annotations

import pytest

from tradesweep.data import load_sample
from tradesweep.data.window import window_bars
from tradesweep.specs import SweepSpec, SweepSpecError, WalkForwardSpec
from tradesweep.sweep import run_sweep

BASE = {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fast": "5:15:5", "slow": "30"}}


def test_no_window_keeps_the_spec_id() -> None:
    spec = SweepSpec.from_dict(BASE)
    assert not {"start", "end", "timeframe"} & set(spec.to_dict())
    windowed = SweepSpec.from_dict(BASE | {"start": "2012-01-01", "end": "2014-12-31"})
    assert windowed.spec_id != spec.spec_id
    assert SweepSpec.from_dict(windowed.to_dict()) == windowed
    walk = WalkForwardSpec.from_dict(windowed.to_dict() | {"train_bars": 200, "test_bars": 50})
    assert walk.sweep == windowed


def test_the_sweep_runs_on_the_window() -> None:
    window = {"start": "2012-01-01", "end": "2014-12-31T00:00:00Z", "timeframe": "1w"}
    got = run_sweep(SweepSpec.from_dict(BASE | window), workers=1)
    bars = window_bars(load_sample("GOOGL"), "GOOGL", "1w", "2012-01-01", "2014-12-31T00:00:00Z")
    assert got.all_rows()[0]["metrics"]["bars"] == len(bars) < 160


@pytest.mark.parametrize(
    ("window", "field"),
    [({"timeframe": "4x"}, "timeframe"), ({"start": "soon"}, "start"),
     ({"start": "2014-01-01", "end": "2013-01-01"}, "start")],
)  # fmt: skip
def test_a_bad_window_names_the_field(window: dict[str, str], field: str) -> None:
    with pytest.raises(SweepSpecError) as raised:
        SweepSpec.from_dict(BASE | window)
    assert raised.value.details["field"] == field
