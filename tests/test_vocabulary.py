"""One name per concept: field names said as CLI flags on the CLI and CLI flags said as field
names on the API (``tradesweep.vocabulary``), and the CSV cells every CSV shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.reports.csv_format import csv_cell, csv_frame, csv_timestamp
from tradesweep.vocabulary import FLAGS, OLD_FLAGS, for_api, for_cli


@pytest.mark.parametrize(
    ("core", "cli"),
    [
        ("e.g. train_bars=500, test_bars=100", "e.g. --train-bars 500, --test-bars 100"),
        ("give step_bars >= test_bars", "give --step-bars >= --test-bars"),
        ("walk-forward field 'train_bars' must be", "walk-forward field '--train-bars' must be"),
        ("add search=random (or bayes), or leave trials out",
         "add --search random (or bayes), or leave trials out"),
        ("give e.g. min_trades=10", "give e.g. --min-trades 10"),
        ("use overwrite=true to replace it", "use --overwrite to replace it"),
        ("the risk_free_rate is", "the --risk-free is"),
    ],
)  # fmt: skip
def test_field_names_become_flags_on_the_cli(core: str, cli: str) -> None:
    assert for_cli(core) == cli


@pytest.mark.parametrize(
    "text",
    [
        "-r fast=5:20:5 in the search of trials",  # a parameter, English words
        "settings.min_trades_x and ranges.trials",  # not a known name, a path
        "--min-trades 10",  # a flag already
        "ticker TRAIN_BARS",
        "cannot read min_trades.csv or ./data/train_bars.csv",  # file names
    ],
)
def test_other_words_pass_the_cli_untouched(text: str) -> None:
    assert for_cli(text) == text


@pytest.mark.parametrize(
    ("cli", "api"),
    [
        ("e.g. --train 500 --test 100", "e.g. train_bars=500 test_bars=100"),
        ("give --step >= --test (the default is --test)",
         "give step_bars >= test_bars (the default is test_bars)"),
        ("add --search random (or bayes), or leave --trials out",
         "add search=random (or bayes), or leave trials out"),
        ("give e.g. --min-trades 10", "give e.g. min_trades=10"),
        ("use --overwrite to replace it", "use overwrite=true to replace it"),
        ("add one with `tradesweep data import FILE --ticker NAME`",
         "add one with POST /api/v1/datasets"),
        ("an operator runs `tradesweep keys create --tenant NAME`",
         "an operator runs `tradesweep keys create --tenant NAME`"),
    ],
)  # fmt: skip
def test_flags_become_field_names_on_the_api(cli: str, api: str) -> None:
    assert for_api(cli) == api


def test_the_two_directions_agree() -> None:
    for field, flag in FLAGS.items():
        value = "true" if field == "overwrite" else "7"
        said = for_cli(f"give {field}={value}")
        assert said == (f"give {flag}" if field == "overwrite" else f"give {flag} 7")
        assert for_api(said) == f"give {field}={value}"
    for old, field in OLD_FLAGS.items():
        assert for_api(f"{old} 5") == f"{field}=5"


def test_every_csv_timestamp_has_one_format() -> None:
    want = "2024-01-02T00:00:00+00:00"
    assert csv_timestamp(pd.Timestamp("2024-01-02", tz="UTC")) == want
    assert csv_timestamp(pd.Timestamp("2024-01-02")) == want  # naive is UTC
    assert csv_timestamp(pd.Timestamp("2024-01-02 01:00", tz="Europe/Berlin")) == want
    assert csv_cell("start", pd.Timestamp("2024-01-02", tz="UTC").to_pydatetime()) == want


def test_csv_frame_writes_whole_numbers_and_timestamps() -> None:
    index = pd.DatetimeIndex(["2024-01-02", "2024-01-03"], tz="UTC", name="timestamp")
    frame = pd.DataFrame(
        {
            "total_trades": [34.0, np.nan],
            "rank": [1.0, np.nan],
            "fast": [10.0, 20.0],
            "sharpe_ratio": [1.0, 2.5],
            "entry_time": index,
        },
        index=index,
    )
    text = csv_frame(frame, integers=["fast"]).to_csv()
    assert text.splitlines() == [
        "timestamp,total_trades,rank,fast,sharpe_ratio,entry_time",
        "2024-01-02T00:00:00+00:00,34,1,10,1.0,2024-01-02T00:00:00+00:00",
        "2024-01-03T00:00:00+00:00,,,20,2.5,2024-01-03T00:00:00+00:00",
    ]
    assert csv_cell("total_trades", 34.0) == 34 and csv_cell("sharpe_ratio", 1.0) == 1.0


def test_a_failed_jobs_error_is_said_in_the_apis_words() -> None:
    from tradesweep.jobs.child import failure_of
    from tradesweep.specs.sweep import SweepSpecError

    error = SweepSpecError("walk-forward windows too long", fix="use smaller --train / --test")
    assert failure_of(error).message == (
        "walk-forward windows too long (use smaller train_bars / test_bars)"
    )
