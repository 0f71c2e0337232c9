"""Limits, against real servers on SQLite and PostgreSQL: the per-key submission rate (429 +
Retry-After), the per-tenant active-job cap (counted in the database, so it holds across two
API processes and under concurrent submissions), the body, sweep and page size caps, and NUL
characters refused with 400 naming the field wherever text comes in."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.api.limits import TokenBuckets, nul_path
from tradesweep.store import ApiKeyRepository, Job, JobStatus, TenantRepository

SWEEP = "/api/v1/strategy/sweep"
TRIGGER = "/api/pipelines/trigger"
RUN = "/api/backtest/run"
REQUEST = {
    "ticker": "GOOGL",
    "fast_range": [10, 20],
    "slow_range": [20, 30],
    "step": 5,
    "min_trades": 50,
    "strategy_type": "SMA",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class Served:
    url: str
    app: Any


@pytest.fixture
def serve(
    settings: ApiSettings, engine: Engine, serve_app: Callable[[object], str]
) -> Callable[..., Served]:
    """``serve(**settings changes)``: another API process (a uvicorn thread) on the test
    database with those settings."""

    def start(**changes: Any) -> Served:
        app = create_app(dataclasses.replace(settings, **changes), engine=engine)
        return Served(serve_app(app), app)

    return start


@pytest.fixture
def key_for(sessions: sessionmaker[Session]) -> Callable[[str], str]:
    def make(tenant: str) -> str:
        with sessions.begin() as s:
            return ApiKeyRepository(s).create(TenantRepository(s).get_or_create(tenant)).key

    return make


@pytest.fixture
def client() -> Iterator[Callable[[str, str], httpx.Client]]:
    opened: list[httpx.Client] = []

    def make(url: str, key: str) -> httpx.Client:
        opened.append(httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30))
        return opened[-1]

    yield make
    for c in opened:
        c.close()


def count_jobs(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Job)) or 0


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    return body  # type: ignore[no-any-return]


# ---- the submission rate -----------------------------------------------------------------


def test_token_bucket_bursts_then_refills_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token every 1/2 s
    assert buckets.take("b") == 0.0  # each key its own bucket
    clock.now += 0.25
    assert buckets.take("a") == pytest.approx(0.25)  # half a token: nothing spent
    clock.now += 0.25
    assert buckets.take("a") == 0.0
    clock.now += 3600
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # refills up to the burst only
    assert TokenBuckets(rate=0, burst=1).take("a") == 0.0  # rate 0: no limit


def test_bucket_memory_is_bounded() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=1, clock=clock, max_keys=10)
    for n in range(10):
        buckets.take(f"k{n}")
    clock.now += 5  # all full again
    buckets.take("new")
    assert len(buckets._buckets) == 1


def test_submissions_over_the_rate_get_429_with_retry_after(
    serve: Callable[..., Served],
    key_for: Callable[[str], str],
    client: Callable[[str, str], httpx.Client],
    sessions: sessionmaker[Session],
) -> None:
    server = serve(submit_rate_per_second=0.5, submit_burst=3, max_active_jobs=0)
    clock = Clock()
    server.app.state.submit_buckets = TokenBuckets(0.5, 3, clock=clock)
    first, second = key_for("acme"), key_for("acme")
    acme = client(server.url, first)
    # every submission endpoint spends from the same bucket
    assert acme.post(SWEEP, json=REQUEST).status_code == 202
    assert acme.post(TRIGGER, json=REQUEST).status_code == 202
    assert acme.post(RUN, json={"strategy_name": "SMA", "symbol": "GOOGL"}).status_code == 202
    refused = acme.post(TRIGGER, json=REQUEST)
    body = error(refused, 429)
    assert body["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == "2"  # a token every 2 s
    assert body["details"]["retry_after_seconds"] == 2 and body["details"]["burst"] == 3
    assert count_jobs(sessions) == 3  # the refused one stored nothing
    # refused before the body is read: even a broken body is 429
    assert (
        acme.post(
            SWEEP, content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 429
    )
    # reads are not submissions
    assert acme.get("/api/v1/jobs").status_code == 200
    # per key: the tenant's other key has its own bucket
    assert client(server.url, second).post(SWEEP, json=REQUEST).status_code == 202
    clock.now += 2.0
    assert acme.post(SWEEP, json={**REQUEST, "step": 2}).status_code == 202
    assert acme.post(SWEEP, json={**REQUEST, "step": 3}).status_code == 429


def test_default_limits_are_documented_values(settings: ApiSettings) -> None:
    assert (settings.submit_rate_per_second, settings.submit_burst) == (10.0, 20)
    assert settings.max_active_jobs == 100
    assert settings.max_sweep_combinations == 1_000_000


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from tradesweep.errors import TradesweepError

    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADESWEEP_SUBMIT_RATE", "0")
    monkeypatch.setenv("TRADESWEEP_SUBMIT_BURST", "5")
    monkeypatch.setenv("TRADESWEEP_MAX_ACTIVE_JOBS", "7")
    monkeypatch.setenv("TRADESWEEP_MAX_SWEEP_COMBINATIONS", "500")
    loaded = ApiSettings.from_env("sqlite:///x.db")
    assert loaded.submit_rate_per_second == 0.0 and loaded.submit_burst == 5
    assert loaded.max_active_jobs == 7 and loaded.max_sweep_combinations == 500
    monkeypatch.setenv("TRADESWEEP_MAX_ACTIVE_JOBS", "lots")
    with pytest.raises(TradesweepError, match="TRADESWEEP_MAX_ACTIVE_JOBS"):
        ApiSettings.from_env("sqlite:///x.db")


# ---- active jobs per tenant --------------------------------------------------------------


def test_active_job_cap_counts_queued_and_running_in_the_database(
    serve: Callable[..., Served],
    key_for: Callable[[str], str],
    client: Callable[[str, str], httpx.Client],
    sessions: sessionmaker[Session],
) -> None:
    a = serve(max_active_jobs=3, submit_rate_per_second=0)
    b = serve(max_active_jobs=3, submit_rate_per_second=0)  # a second API process
    key = key_for("acme")
    on_a, on_b = client(a.url, key), client(b.url, key)
    ids = [on_a.post(SWEEP, json={**REQUEST, "step": s}).json()["job_id"] for s in (1, 2)]
    ids.append(on_b.post(TRIGGER, json=REQUEST, headers={"Idempotency-Key": "k1"}).json()["job_id"])
    with sessions.begin() as s:
        s.execute(update(Job).where(Job.id == ids[0]).values(status=JobStatus.RUNNING))

    for c, url, body in (
        (on_a, SWEEP, REQUEST),
        (on_b, RUN, {"strategy_name": "SMA", "symbol": "GOOGL"}),
    ):
        refused = c.post(url, json=body)
        details = error(refused, 429)["details"]
        assert error(refused, 429)["error"] == "too_many_active_jobs"
        assert details["active_jobs"] == 3 and details["limit"] == 3
        assert refused.headers["Retry-After"] == "5"
        assert "3 queued or running" in refused.json()["message"]
    # a retry of a stored submission is answered, not refused
    replay = on_a.post(TRIGGER, json=REQUEST, headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 202 and replay.json()["job_id"] == ids[2]
    # other tenants have their own count
    assert client(a.url, key_for("globex")).post(SWEEP, json=REQUEST).status_code == 202
    # a finished job frees its place
    with sessions.begin() as s:
        s.execute(update(Job).where(Job.id == ids[0]).values(status=JobStatus.COMPLETED))
    assert on_b.post(SWEEP, json=REQUEST).status_code == 202
    assert on_b.post(SWEEP, json=REQUEST).status_code == 429


def test_concurrent_submissions_through_two_processes_never_pass_the_cap(
    serve: Callable[..., Served],
    key_for: Callable[[str], str],
    client: Callable[[str, str], httpx.Client],
    sessions: sessionmaker[Session],
) -> None:
    servers = [serve(max_active_jobs=5, submit_rate_per_second=0) for _ in range(2)]
    key = key_for("acme")
    clients = [client(s.url, key) for s in servers]
    for c in clients:
        # A fresh app builds its routes on the first request; built by 24 threads at once,
        # a library's warnings.catch_warnings (not thread-safe) can let a warning through,
        # which filterwarnings=error turns into a 500. One request first.
        assert c.get("/api/v1/jobs").status_code == 200
    start = threading.Barrier(24)

    def submit(n: int) -> int:
        start.wait()
        return clients[n % 2].post(SWEEP, json={**REQUEST, "step": n % 50 + 1}).status_code

    with ThreadPoolExecutor(24) as pool:
        codes = list(pool.map(submit, range(24)))
    assert sorted(codes) == [202] * 5 + [429] * 19, codes
    assert count_jobs(sessions) == 5


# ---- body, sweep and page size -------------------------------------------------------------


def test_a_streamed_body_over_the_limit_is_413_whatever_the_route(
    serve: Callable[..., Served],
    key_for: Callable[[str], str],
    client: Callable[[str, str], httpx.Client],
) -> None:
    server = serve(max_body_bytes=4096)
    c = client(server.url, key_for("acme"))

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"ticker": "GOOGL", "pad": "'
        for _ in range(10):
            yield b"x" * 1024
        yield b'"}'

    for url in (TRIGGER, RUN):
        body = error(
            c.post(url, content=chunks(), headers={"content-type": "application/json"}), 413
        )
        assert body["error"] == "payload_too_large" and body["details"]["limit_bytes"] == 4096


def test_a_sweep_over_the_size_cap_is_422_naming_the_size_and_the_limit(
    serve: Callable[..., Served],
    key_for: Callable[[str], str],
    client: Callable[[str, str], httpx.Client],
) -> None:
    server = serve(max_sweep_combinations=100, submit_rate_per_second=0)
    c = client(server.url, key_for("acme"))
    big = {**REQUEST, "fast_range": [2, 20], "slow_range": [21, 40], "step": 1}  # 19 x 20 = 380
    for url in (SWEEP, TRIGGER, "/api/v1/walkforward"):
        extra = {"train_bars": 500, "test_bars": 100} if "walk" in url else {}
        body = error(c.post(url, json={**big, **extra}), 422)
        assert "380" in body["message"] and "100" in body["message"]
        assert body["details"]["grid_size"] == 380
        assert body["details"]["max_combinations"] == 100
    assert c.post(SWEEP, json=REQUEST).status_code == 202  # 9 is fine


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v1/jobs", 200),
        ("/api/v1/sweeps/{id}/best", 1000),
        ("/api/v1/sweeps/{id}/results", 5000),
        ("/api/pipelines/{id}", 1000),
    ],
)
def test_a_page_over_the_cap_is_422_naming_limit(
    serve: Callable[..., Served],
    key_for: Callable[[str], str],
    client: Callable[[str, str], httpx.Client],
    path: str,
    limit: int,
) -> None:
    c = client(serve().url, key_for("acme"))
    job_id = c.post(TRIGGER, json=REQUEST).json()["job_id"]
    url = path.format(id=job_id)
    body = error(c.get(url, params={"limit": limit + 1}), 422)
    assert body["details"]["field"] == "limit" and str(limit) in body["message"]
    assert c.get(url, params={"limit": limit}).status_code in (200, 404)  # 404: no results yet


# ---- NUL characters ----------------------------------------------------------------------


def test_nul_path_names_the_first_place() -> None:
    assert nul_path({"a": "x", "b": ["y", {"c": "z\x00"}]}) == "b.1.c"
    assert nul_path({"k\x00": 1}) == "k\x00"
    assert nul_path({"a": ["ok", 1, None, 2.5]}) is None


@pytest.mark.parametrize(
    ("url", "body", "field", "path"),
    [
        (SWEEP, {**REQUEST, "ticker": "GO\x00OGL"}, "ticker", "ticker"),
        (TRIGGER, {**REQUEST, "ranges": {"signal": ["5\x00"]}}, "ranges", "ranges.signal.0"),
        (
            TRIGGER,
            {**REQUEST, "webhook_url": "https://example.com/\x00"},
            "webhook_url",
            "webhook_url",
        ),
        (RUN, {"strategy_name": "SMA\x00", "symbol": "GOOGL"}, "strategy_name", "strategy_name"),
        (
            "/api/v1/backtests",
            {"ticker": "GOOGL", "parameters": {"fa\x00st": 3}},
            "parameters",
            "parameters.fa\\x00st",
        ),
        ("/api/v1/auth/login", {"api_key": "ts_\x00"}, "api_key", "api_key"),
    ],
)
def test_nul_in_a_json_body_is_400_naming_the_field(
    acme: Any,
    sessions: sessionmaker[Session],
    url: str,
    body: dict[str, Any],
    field: str,
    path: str,
) -> None:
    answer = error(acme.client.post(url, json=body), 400)
    assert answer["error"] == "nul_character"
    assert answer["details"]["field"] == field and answer["details"]["path"] == path
    assert count_jobs(sessions) == 0


def test_nul_in_a_form_body_query_path_or_header_is_400(
    acme: Any, sessions: sessionmaker[Session]
) -> None:
    form = {
        **{k: str(v) for k, v in REQUEST.items()},
        "fast_range": ["10", "20"],
        "slow_range": ["20", "30\x00"],
    }
    answer = error(acme.client.post(SWEEP, data=form), 400)
    assert answer["details"]["field"] == "slow_range"
    assert answer["details"]["path"] == "slow_range.1"

    query = error(acme.client.get("/api/v1/jobs", params={"ticker": "GO\x00"}), 400)
    assert query["error"] == "nul_character"
    assert query["details"] == {
        "field": "ticker",
        "location": "query parameter",
        "fix": query["details"]["fix"],
    }

    path = error(acme.client.get("/api/v1/jobs/abc%00def"), 400)
    assert path["details"]["location"] == "path"
    assert error(acme.client.get("/api/pipelines/abc%00def"), 400)["error"] == "nul_character"
    assert error(acme.client.get("/api/backtest/abc%00/status"), 400)["error"] == "nul_character"

    # a header value httpx would refuse to send: raw bytes on a socket. uvicorn's parser
    # refuses it before the app runs; NulGuard's header check is for servers that do not.
    host, port = acme.client.base_url.host, acme.client.base_url.port
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.sendall(
            b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX-API-Key: "
            + acme.key.encode()
            + b"\x00\r\n\r\n"
        )
        status_line = raw.recv(4096).split(b"\r\n", 1)[0]
    assert b" 400 " in status_line, status_line
    assert count_jobs(sessions) == 0
