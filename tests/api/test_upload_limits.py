"""Uploaded files are bounded after decompression: a small ``.csv.gz/.bz2/.xz/.zip`` that
expands past ``max_upload_decompressed_bytes``, or a file with more than ``max_upload_rows``
rows, is refused with 413 naming the limit, read as a stream that stops at the limit (the
server's memory does not grow with the bomb), while other requests keep answering.

Each test runs on SQLite and PostgreSQL against a real server."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tradesweep.api import ApiSettings
from tradesweep.data import synthetic_bars

from .conftest import SECRET, Caller

MB = 1024 * 1024
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}
HEADER = b"Date,Open,High,Low,Close,Volume\n"


def bomb(kind: str, megabytes: int, line_bytes: int = 100 * 1024) -> bytes:
    """A compressed CSV that expands to about ``megabytes`` MB: one 10 MB stream of long
    lines, concatenated (gzip, bzip2 and xz read concatenated streams as one file)."""
    line = b"0" * (line_bytes - 1) + b"\n"
    block = COMPRESSORS[kind](line * (10 * MB // line_bytes))
    return COMPRESSORS[kind](HEADER) + block * (megabytes // 10)


def _csv(bars: pd.DataFrame) -> bytes:
    frame = bars[["open", "high", "low", "close", "volume"]].copy()
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.index.name = "Date"
    return frame.to_csv().encode()


def _upload(client: httpx.Client, name: str, content: bytes, ticker: str = "BOMB") -> Any:
    return client.post(
        "/api/v1/datasets",
        data={"ticker": ticker},
        files={"file": (name, content, "application/octet-stream")},
    )


@pytest.fixture
def settings(db_url: str, data_dir: Path) -> ApiSettings:
    return ApiSettings(
        database_url=db_url,
        data_dir=data_dir,
        session_secret=SECRET,
        max_body_bytes=256 * 1024,
        max_upload_decompressed_bytes=4 * MB,
        max_upload_rows=1_000,
    )


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_a_bomb_is_refused_with_the_limit_named(acme: Caller, kind: str) -> None:
    content = bomb(kind, 100)
    assert len(content) < 200 * 1024
    response = _upload(acme.client, f"prices.csv.{kind}", content)
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"] == "payload_too_large"
    assert "max_upload_decompressed_bytes" in body["message"]
    assert "4,194,304" in body["message"]
    assert body["details"]["field"] == "file"
    assert body["details"]["limit"] == "max_upload_decompressed_bytes"
    assert body["details"]["limit_value"] == 4 * MB
    assert "BOMB" not in {
        d["ticker"] for d in acme.client.get("/api/v1/datasets").json()["datasets"]
    }


def test_a_zip_bomb_is_refused(acme: Caller) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("prices.csv", HEADER + (b"0" * (100 * 1024 - 1) + b"\n") * 500)
    response = _upload(acme.client, "prices.csv.zip", out.getvalue())
    assert response.status_code == 413, response.text
    assert response.json()["details"]["limit"] == "max_upload_decompressed_bytes"


@pytest.mark.parametrize("compress", [None, "gz"])
def test_too_many_rows_are_refused(acme: Caller, compress: str | None) -> None:
    rows = b"".join(b"2020-01-01,1,1,1,1,1\n" for _ in range(2_000))
    content = HEADER + rows
    name = "rows.csv"
    if compress:
        content, name = COMPRESSORS[compress](content), f"{name}.{compress}"
    response = _upload(acme.client, name, content)
    assert response.status_code == 413, response.text
    assert response.json()["details"]["limit"] == "max_upload_rows"
    assert "1,000 rows" in response.json()["message"]


def test_a_parquet_file_with_too_many_rows_is_refused(acme: Caller) -> None:
    out = io.BytesIO()
    synthetic_bars(1_500, seed=1).to_parquet(out)
    response = _upload(acme.client, "bars.parquet", out.getvalue())
    assert response.status_code == 413, response.text
    assert response.json()["details"]["limit"] == "max_upload_rows"


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_a_compressed_file_within_the_limits_is_imported(acme: Caller, kind: str) -> None:
    content = COMPRESSORS[kind](_csv(synthetic_bars(300, seed=2)))
    response = _upload(acme.client, f"good.csv.{kind}", content, ticker=f"GOOD{kind.upper()}")
    assert response.status_code == 201, response.text
    assert response.json()["bars"] == 300
    assert response.json()["source"] == f"good.csv.{kind}"


def test_a_damaged_compressed_file_is_one_clear_error(acme: Caller) -> None:
    content = gzip.compress(_csv(synthetic_bars(50, seed=3)))[:-40] + b"garbage"
    response = _upload(acme.client, "broken.csv.gz", content)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["details"]["field"] == "file"
    assert "broken.csv.gz" in body["message"]
    assert "tradesweep-upload" not in response.text  # never the server's temporary path


# ---- a real `tradesweep serve` with its default limits: memory and other requests --------


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


class Pinger:
    """Lists datasets over and over in a thread; records how long each answer took."""

    def __init__(self, url: str, key: str) -> None:
        self.client = httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30)
        self.times: list[float] = []
        self.statuses: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            status = self.client.get("/api/v1/datasets").status_code
            self.times.append(time.monotonic() - started)
            self.statuses.append(status)
            self.stop.wait(0.05)

    @classmethod
    @contextlib.contextmanager
    def running(cls, url: str, key: str) -> Iterator[Pinger]:
        pinger = cls(url, key)
        pinger.thread.start()
        try:
            yield pinger
        finally:
            pinger.stop.set()
            pinger.thread.join(30)
            pinger.client.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bombs_leave_the_servers_memory_flat_and_others_served(
    backend: str, run_serve: Callable[..., Any], fresh_database: Callable[[str], str]
) -> None:
    served = run_serve(
        database_url=fresh_database(backend) if backend == "postgresql" else None, workers=0
    )
    bombs = {kind: bomb(kind, 500 if kind == "gz" else 1_000) for kind in COMPRESSORS}
    with served.client() as client:
        assert client.get("/api/v1/datasets").status_code == 200
        before = _peak_rss(served.process.pid)
        with Pinger.running(served.url, served.key) as pinger:
            for kind, content in bombs.items():
                response = _upload(client, f"bomb.csv.{kind}", content)
                assert response.status_code == 413, response.text
                assert response.json()["details"]["limit"] == "max_upload_decompressed_bytes"
                assert "209,715,200" in response.json()["message"]
            answered = len(pinger.times)
            deadline = time.monotonic() + 10
            while len(pinger.times) == answered and time.monotonic() < deadline:
                pinger.stop.wait(0.05)  # one more answer after the last bomb
        grown = _peak_rss(served.process.pid) - before
    assert grown < 100 * MB, f"the server's peak memory grew by {grown / MB:.0f} MB"
    assert pinger.times and set(pinger.statuses) == {200}
    assert max(pinger.times) < 1.0, f"slowest other request: {max(pinger.times):.2f} s"


def test_a_large_file_reports_its_first_problem_only(
    acme: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradesweep.api import uploads

    monkeypatch.setattr(uploads, "ROW_BY_ROW_BYTES", 1_000)  # each problem re-reads the file
    good = _csv(synthetic_bars(100, seed=4)).decode().splitlines()
    for line in (10, 20, 30):
        good[line - 1] = good[line - 1].rsplit(",", 1)[0] + ",-5"
    response = _upload(acme.client, "many.csv", "\n".join(good).encode())
    assert response.status_code == 422, response.text
    details = response.json()["details"]
    assert [e["line"] for e in details["errors"]] == [10]
    assert details["truncated"] is True
