"""GET/POST /api/v1/datasets: the registry over HTTP, and every problem of an uploaded file
reported row by row with the line an editor shows."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tradesweep.data import DatasetRegistry

GOOD = """Date,Open,High,Low,Close,Volume
2020-01-01,10,11,9,10.5,100
2020-01-02,10.5,12,10,11.5,120
2020-01-03,11.5,12,11,11.8,90
2020-01-06,11.8,12.5,11.5,12.2,110
"""

BAD = """Date,Open,High,Low,Close,Volume
2020-01-01,10,11,9,10.5,100
2020-01-03,10.5,12,10,11.5,120
2020-01-02,11.5,12,11,11.8,90
2020-01-06,11.8,abc,11.5,12.2,110
2020-01-07,11.8,12.5,11.5,12.2,-5
2020-01-08,12,11,11.5,12.2,10
2020-01-09,12,12.5,11.5,12.2,10
"""


def _upload(
    client: httpx.Client, text: str, ticker: str = "TEST", name: str = "prices.csv", **extra: str
) -> httpx.Response:
    return client.post(
        "/api/v1/datasets",
        data={"ticker": ticker, **extra},
        files={"file": (name, text.encode(), "text/csv")},
    )


def test_lists_the_bundled_samples_with_range_and_bars(client: httpx.Client) -> None:
    response = client.get("/api/v1/datasets")
    assert response.status_code == 200
    datasets = {d["ticker"]: d for d in response.json()["datasets"]}
    googl = datasets["GOOGL"]
    assert googl["bars"] == 2335
    assert googl["interval"] == "1D"
    assert googl["bundled"] is True
    assert googl["synthetic"] is False
    assert googl["start"].startswith("2009-")
    assert googl["end"].startswith("2018-")
    assert datasets["EURUSD"]["interval"] == "1h"


def test_import_stores_the_file_as_a_ticker_a_sweep_can_use(
    client: httpx.Client, data_dir: Path
) -> None:
    response = _upload(client, GOOD, ticker="mine")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["ticker"], body["bars"], body["source"]) == ("MINE", 4, "prices.csv")
    assert body["imported_at"]
    assert body["scope"] == "tenant"
    assert "MINE" not in DatasetRegistry(data_dir).tickers()  # the tenant's own, not shared
    assert DatasetRegistry(data_dir).tenants()  # in the tenant's folder
    listed = [d["ticker"] for d in client.get("/api/v1/datasets").json()["datasets"]]
    assert "MINE" in listed


def test_every_bad_row_is_reported_with_its_original_line(client: httpx.Client) -> None:
    response = _upload(client, BAD)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_data"
    details = body["details"]
    assert details["field"] == "file"
    assert details["truncated"] is False
    errors = details["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [
        (4, "Date"),
        (5, "High"),
        (6, "Volume"),
        (7, "High"),
    ]
    assert "line 4 (header is line 1)" in errors[0]["message"]
    assert "earlier than the row before" in errors[0]["message"]
    assert "'abc' is not a finite number" in errors[1]["message"]
    assert "volume must not be negative" in errors[2]["message"]
    assert "high is below max(open, close)" in errors[3]["message"]
    assert all(e["fix"] for e in errors)
    assert all("more row(s)" not in e["message"] for e in errors)
    assert "tradesweep-upload" not in response.text  # never the server's temporary path
    assert body["message"].startswith("prices.csv: 4 problem(s); first: prices.csv: line 4")


def test_a_file_level_problem_is_the_only_error(client: httpx.Client) -> None:
    response = _upload(client, "Date,Open,High,Low,Close\n2020-01-01,1,1,1,1\n")
    assert response.status_code == 422
    errors = response.json()["details"]["errors"]
    assert len(errors) == 1
    assert errors[0]["line"] is None
    assert "volume" in errors[0]["message"].lower()


def test_many_bad_rows_are_capped(client: httpx.Client) -> None:
    rows = "".join(f"2020-01-{d:02d},1,1,1,1,x\n" for d in range(1, 29))
    rows += "".join(f"2020-02-{d:02d},1,1,1,1,x\n" for d in range(1, 29))
    response = _upload(client, "Date,Open,High,Low,Close,Volume\n" + rows)
    details = response.json()["details"]
    assert details["truncated"] is True
    assert len(details["errors"]) == 50
    assert details["errors"][0]["line"] == 2
    assert response.json()["message"].startswith("prices.csv: 50+ problem(s)")


def test_an_existing_ticker_needs_overwrite(client: httpx.Client) -> None:
    assert _upload(client, GOOD).status_code == 201
    again = _upload(client, GOOD)
    assert again.status_code == 409
    assert again.json()["error"] == "dataset_exists"
    assert again.json()["details"]["field"] == "ticker"
    assert "already exists" in again.json()["message"]
    replaced = _upload(client, GOOD.replace("12.2", "12.3"), overwrite="true")
    assert replaced.status_code == 201


@pytest.mark.parametrize(
    ("ticker", "words", "status"),
    [
        ("GOOGL", "bundled sample and read-only", 403),
        ("A" * 41, "1-40 characters", 422),
        ("BAD TICKER", "not a valid name", 422),
    ],
)
def test_refused_tickers_name_the_ticker_field(
    client: httpx.Client, ticker: str, words: str, status: int
) -> None:
    response = _upload(client, GOOD, ticker=ticker)
    assert response.status_code == status
    assert response.json()["details"]["field"] == "ticker"
    assert words in response.json()["message"]


def test_missing_fields_are_named(client: httpx.Client) -> None:
    response = client.post("/api/v1/datasets", data={"note": "x"}, files={"x": ("a", b"1")})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert [e["field"] for e in body["details"]["errors"]] == ["file", "ticker"]


def test_json_is_refused_with_415(client: httpx.Client) -> None:
    response = client.post("/api/v1/datasets", json={"ticker": "X"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["message"]


def test_a_file_over_the_body_limit_is_413(client: httpx.Client) -> None:
    big = GOOD + "x" * (300 * 1024)
    assert _upload(client, big).status_code == 413


def test_datasets_need_a_key(anonymous: httpx.Client) -> None:
    assert anonymous.get("/api/v1/datasets").status_code == 401
    assert _upload(anonymous, GOOD).status_code == 401
