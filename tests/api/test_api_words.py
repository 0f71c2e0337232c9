"""API answers speak the API's words: an error a shared (core) check raises names the field
to send (``train_bars=500``, ``overwrite=true``, ``POST /api/v1/datasets``), never a CLI flag;
``tests/cli/test_cli_words.py`` checks that the CLI says the same errors with flags."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

Caller = Any
SWEEP = {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fast": [5, 10], "slow": [30]}}
_FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _no_flags(body: dict[str, Any]) -> str:
    """The answer's text outside quoted commands (an operator's `tradesweep keys create`)."""
    text = " ".join([body["message"], *(str(v) for v in body["details"].values())])
    outside = "".join(text.split("`")[::2])
    assert not _FLAG.search(outside), text
    return text


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        (
            "/api/v1/walkforward",
            {**SWEEP, "train_bars": 500, "test_bars": 100, "step_bars": 50},
            ["step_bars >= test_bars"],
        ),
        (
            "/api/v1/walkforward",
            {**SWEEP, "train_bars": 500, "test_bars": 0},
            ["train_bars=500", "test_bars=100"],
        ),
        (
            "/api/v1/walkforward",
            {**SWEEP, "train_bars": 5000, "test_bars": 1000},
            ["train_bars + test_bars"],
        ),
        ("/api/v1/sweeps", {**SWEEP, "trials": 5}, ["search=random", "trials"]),
        ("/api/v1/sweeps", {**SWEEP, "search": "random", "trials": 0}, ["trials=200"]),
    ],
)
def test_spec_errors_name_fields_not_flags(
    acme: Caller, path: str, body: dict[str, Any], words: list[str]
) -> None:
    answer = acme.client.post(path, json=body)
    assert answer.status_code == 422, answer.text
    text = _no_flags(answer.json())
    for word in words:
        assert word in text, text


def test_dataset_errors_name_fields_and_endpoints(acme: Caller, googl: pd.DataFrame) -> None:
    upload = {"ticker": "MINE"}
    files = {"file": ("mine.csv", googl.head(300).to_csv().encode(), "text/csv")}
    assert acme.client.post("/api/v1/datasets", data=upload, files=files).status_code == 201
    again = acme.client.post("/api/v1/datasets", data=upload, files=files)
    assert again.status_code == 409, again.text
    text = _no_flags(again.json())
    assert "overwrite=true" in text and "tick '" not in text

    windows = {"train_bars": 50, "test_bars": 20}
    for path, body in [
        ("/api/v1/walkforward", {**SWEEP, "data": "NOPE", **windows}),
        ("/api/v1/sweeps", {**SWEEP, "data": "NOPE"}),
    ]:
        missing = acme.client.post(path, json=body)
        assert missing.status_code in (404, 422), missing.text
        text = _no_flags(missing.json())
        assert "POST /api/v1/datasets" in text and "data import" not in text, text

    unknown = acme.client.post("/api/v1/strategy/sweep", json={"ticker": "NOPE"})
    assert unknown.status_code == 422, unknown.text
    assert "POST /api/v1/datasets" in _no_flags(unknown.json())
