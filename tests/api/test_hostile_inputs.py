"""What a hostile (or careless) client sends: every value is bounded and typed before it reaches
numpy, SQL or a decoder, and each answer is one 4xx naming the request's field, never a 500.

Each class of input is tested, on SQLite and PostgreSQL, against a real server: nested JSON,
numbers beyond int64 and booleans where numbers go, cursors of the wrong shape, event ids
beyond int64, out-of-range epoch cells, oversized errors, unbounded settings and windows,
internal names in ``details.field``, route order, and the connection after a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.store import JobRepository, JobType, SweepResultRepository

from ..servers import ServerThread

Caller = Any  # tests/api/conftest.py Caller: tenant, tenant_id, key, client
Body = dict[str, Any]

SWEEP = "/api/v1/strategy/sweep"
WALKFORWARD = "/api/v1/walkforward"
BACKTEST = "/api/v1/backtests"
COMPAT = "/api/backtest/run"
INT64_MAX = 2**63 - 1


def _error(response: httpx.Response, status: int | tuple[int, ...]) -> Body:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:2000])
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    assert "Traceback" not in response.text
    return body


def _json(client: httpx.Client, url: str, text: str) -> httpx.Response:
    return client.post(url, content=text, headers={"Content-Type": "application/json"})


# ---- 1. nested JSON --------------------------------------------------------------------------

NESTED = [
    "[" * 50_000,
    "[" * 30_000 + "]" * 30_000,
    '{"a":' * 10_000 + "1" + "}" * 10_000,
    '{"ticker": "GOOGL", "ranges": ' + '{"a":' * 10_000 + "1" + "}" * 10_000 + "}",
]


@pytest.mark.parametrize("text", NESTED, ids=["open", "closed", "objects", "inside"])
@pytest.mark.parametrize("url", [SWEEP, WALKFORWARD, BACKTEST, "/api/v1/sweeps/estimate"])
def test_deeply_nested_json_is_a_400_naming_the_depth(acme: Caller, url: str, text: str) -> None:
    body = _error(_json(acme.client, url, text), 400)
    assert body["error"] == "invalid_body"
    assert "nest" in body["message"]


def test_nested_json_in_a_form_field_is_refused(acme: Caller, sweep_form: Body) -> None:
    for field in ("ranges", "settings", "fast_range"):
        form = {**sweep_form, field: "[" * 15_000}
        body = _error(acme.client.post(SWEEP, data=form), (400, 422))
        assert body["details"]["field"] == field
        assert "nest" in body["message"]


@pytest.mark.parametrize(
    "url", ["/api/backtest/run", "/api/v1/auth/login", "/api/pipelines/trigger"]
)
def test_nested_json_on_other_json_routes_is_not_a_500(acme: Caller, url: str) -> None:
    response = _json(acme.client, url, "[" * 50_000)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])


# ---- 2. numbers beyond int64, booleans where numbers go ---------------------------------------


@pytest.mark.parametrize(
    ("ranges", "path"),
    [
        ({"signal": {"min": 5, "max": 10**22}}, "ranges.signal.max"),
        ({"signal": {"min": 5, "max": 12, "step": 10**25}}, "ranges.signal.step"),
        ({"signal": {"min": -(10**22), "max": 12}}, "ranges.signal.min"),
        ({"signal": {"min": 10**22, "max": 10**23}}, "ranges.signal.min"),
        ({"signal": [5, 10**22]}, "ranges.signal"),
        ({"signal": {"values": [5, 2**64]}}, "ranges.signal"),
        ({"signal": 10**30}, "ranges.signal"),
        ({"signal": "5:100000000000000000000000"}, "ranges.signal"),
        ({"signal": {"min": 5, "max": 12, "step": 1e300}}, "ranges.signal.step"),
    ],
)
def test_numbers_beyond_int64_in_ranges_are_a_422_naming_the_field(
    acme: Caller, sweep_json: Body, ranges: Body, path: str
) -> None:
    request = {**sweep_json, "strategy_type": "MACD", "ranges": ranges}
    body = _error(acme.client.post(SWEEP, json=request), 422)
    assert body["details"]["field"] == "ranges"
    assert path in body["message"]


@pytest.mark.parametrize("url", [SWEEP, "/api/v1/sweeps/estimate"])
@pytest.mark.parametrize(
    "step",
    ["0:1:1e-300", {"min": 0, "max": 1, "step": 5e-324}, {"min": 0, "max": 1e9, "step": 1e-20}],
)
def test_a_tiny_step_of_a_float_range_is_a_422_naming_the_step(
    acme: Caller, url: str, step: Any
) -> None:
    """A float range whose step gives more values than any grid holds (far more than decimal
    arithmetic's 28 digits) is refused naming the step, not a 500."""
    request = {
        "ticker": "GOOGL",
        "strategy_type": "grid",
        "ranges": {"lower": step, "upper": [2.0], "levels": [5]},
    }
    body = _error(acme.client.post(url, json=request), 422)
    assert body["details"]["field"] == "ranges"
    assert "ranges.lower.step" in body["message"], body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fast_range", [10, 10**22]),
        ("slow_range", [30, 2**63]),
        ("step", 10**25),
        ("min_trades", 10**22),
    ],
)
def test_big_integers_in_sweep_fields_are_a_422(
    acme: Caller, sweep_json: Body, field: str, value: Any
) -> None:
    body = _error(acme.client.post(SWEEP, json={**sweep_json, field: value}), 422)
    assert body["details"]["field"] == field


BOOLEANS: list[tuple[str, Body, str]] = [
    (SWEEP, {"fast_range": [True, 20]}, "fast_range"),
    (SWEEP, {"slow_range": [30, True]}, "slow_range"),
    (SWEEP, {"step": True}, "step"),
    (SWEEP, {"min_trades": True}, "min_trades"),
    (SWEEP, {"strategy_type": "MACD", "ranges": {"signal": [True, 5]}}, "ranges"),
    (SWEEP, {"strategy_type": "MACD", "ranges": {"signal": {"min": True, "max": 5}}}, "ranges"),
    (SWEEP, {"strategy_type": "MACD", "ranges": {"signal": True}}, "ranges"),
    (SWEEP, {"settings": {"fees": True}}, "settings"),
    (SWEEP, {"settings": {"atr_period": True}}, "settings"),
    (WALKFORWARD, {"train_bars": True, "test_bars": 100}, "train_bars"),
    (WALKFORWARD, {"train_bars": 500, "test_bars": True}, "test_bars"),
    (WALKFORWARD, {"train_bars": 500, "test_bars": 100, "step_bars": True}, "step_bars"),
    (BACKTEST, {"parameters": {"fast": True, "slow": 30}}, "parameters"),
    (BACKTEST, {"fast_period": True}, "fast_period"),
    (BACKTEST, {"periods_per_year": True}, "periods_per_year"),
    (BACKTEST, {"risk_free_rate": False}, "risk_free_rate"),
    (COMPAT, {"parameters": {"fast": True}}, "parameters"),
    (COMPAT, {"initial_capital": True}, "initial_capital"),
]


@pytest.mark.parametrize(("url", "fields", "field"), BOOLEANS)
def test_booleans_where_numbers_go_are_refused(
    acme: Caller, sweep_json: Body, url: str, fields: Body, field: str
) -> None:
    request = {**sweep_json, **fields}
    if url == BACKTEST:
        request = {"ticker": "GOOGL", "strategy_type": "SMA", **fields}
    if url == COMPAT:
        request = {"strategy_name": "SMA", "symbol": "GOOGL", **fields}
    if url == WALKFORWARD:
        request = {"train_bars": 500, "test_bars": 100, **request}
    body = _error(acme.client.post(url, json=request), 422)
    assert body["details"]["field"] == field, body


# ---- 3. cursors of the wrong shape -------------------------------------------------------------


def _cursor(value: Any) -> str:
    raw = json.dumps(value).encode() if not isinstance(value, bytes) else value
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    _cursor([1, 2]),
    _cursor(["notadate", "x"]),
    _cursor(["abc"]),
    _cursor([None]),
    _cursor([1e30]),
    _cursor([2**63]),
    _cursor([-1]),
    _cursor([True]),
    _cursor(["2024-01-01T00:00:00", "x"]),  # naive
    _cursor(["2024-01-01T00:00:00+00:00", 5]),
    _cursor(["2024-01-01T00:00:00+00:00", "x" * 100]),
    _cursor(["9999-12-31T23:59:59-23:59", "x"]),
    _cursor({"a": 1}),
    _cursor(b"\xff\xfe"),
    _cursor(b"[" * 100),
    "!!!not-base64!!!",
    "a",
]


@pytest.fixture
def run_id(acme: Caller, sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as s:
        job = JobRepository(s).create(acme.tenant_id, JobType.SWEEP, {"spec": {}}).job
        run = SweepResultRepository(s).write(
            tenant_id=acme.tenant_id,
            job_id=job.id,
            ticker="GOOGL",
            strategy="sma_crossover",
            spec={},
            spec_id="x",
            rows=[],
            grid_combinations=0,
            valid_combinations=0,
            evaluated=0,
            diagnostics={},
        )
        return run.id


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_bad_cursors_are_a_4xx_naming_the_cursor(acme: Caller, run_id: str, cursor: str) -> None:
    for url in ("/api/v1/jobs", f"/api/v1/sweeps/{run_id}/results"):
        body = _error(acme.client.get(url, params={"cursor": cursor}), (400, 422))
        assert body["details"]["field"] == "cursor", body


def test_good_cursors_still_page(acme: Caller, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for _ in range(3):
            JobRepository(s).create(acme.tenant_id, JobType.SWEEP, {"spec": {}})
    first = acme.client.get("/api/v1/jobs", params={"limit": 2}).json()
    second = acme.client.get("/api/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]})
    assert second.status_code == 200, second.text
    assert len(first["jobs"]) + len(second.json()["jobs"]) == 3


# ---- 4. Last-Event-ID --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [str(2**63), "9" * 30, "abc", "-1", "1.5", "1e3"])
@pytest.mark.parametrize("where", ["header", "query"])
def test_bad_last_event_id_is_refused_before_the_stream_starts(
    acme: Caller, sessions: sessionmaker[Session], value: str, where: str
) -> None:
    with sessions.begin() as s:
        job = JobRepository(s).create(acme.tenant_id, JobType.SWEEP, {"spec": {}}).job
    for path in (f"/api/v1/jobs/{job.id}/stream", f"/sse-proxy/jobs/{job.id}/stream"):
        kwargs: Body = (
            {"headers": {"Last-Event-ID": value}}
            if where == "header"
            else {"params": {"last_event_id": value}}
        )
        with acme.client.stream("GET", path, **kwargs) as response:
            response.read()
            assert 400 <= response.status_code < 500, response.status_code
            assert not response.headers["content-type"].startswith("text/event-stream")
            body = response.json()
        assert body["details"]["field"] in ("Last-Event-ID", "last_event_id")


def test_last_event_id_at_int64_max_is_answered(
    acme: Caller, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        repo = JobRepository(s)
        job = repo.create(acme.tenant_id, JobType.SWEEP, {"spec": {}}).job
        repo.request_cancel(acme.tenant_id, job.id)
    response = acme.client.get(
        f"/api/v1/jobs/{job.id}/stream", headers={"Last-Event-ID": str(INT64_MAX)}
    )
    assert response.status_code == 204


# ---- 5. an uploaded CSV with an out-of-range epoch ---------------------------------------------

EPOCHS = "timestamp,open,high,low,close,volume\n{},10,11,9,10.5,100\n{},10,11,9,10.5,100\n"


@pytest.mark.parametrize("stamp", ["1e20", "100000000000000000000", "-99999999999999999999"])
def test_an_upload_with_an_out_of_range_epoch_is_a_4xx_naming_the_line(
    acme: Caller, stamp: str
) -> None:
    text = EPOCHS.format("1577836800", stamp)
    response = acme.client.post(
        "/api/v1/datasets",
        data={"ticker": "EPOCH"},
        files={"file": ("prices.csv", text.encode(), "text/csv")},
    )
    _error(response, (400, 422))
    assert "line 3" in response.text and "timestamp" in response.text


# ---- 6. the connection after a 500 -------------------------------------------------------------


def test_a_500_is_json_and_keeps_the_connection_open(settings: ApiSettings, engine: Engine) -> None:
    app: FastAPI = create_app(settings, engine=engine)

    @app.get("/test/boom")
    def boom() -> None:
        raise RuntimeError("an internal error")

    @app.get("/test/port")
    async def port(request: Request) -> int:  # the client's port: one per connection
        assert request.client is not None
        return request.client.port

    with ServerThread(app) as server, httpx.Client(base_url=server.url) as client:
        before = client.get("/test/port").json()
        response = client.get("/test/boom")
        assert response.status_code == 500
        assert response.json()["error"] == "internal_error"
        assert "an internal error" not in response.text
        assert response.headers.get("connection", "").lower() != "close"
        after = client.get("/test/port").json()
        assert before == after


# ---- 7. errors no bigger than their cause ------------------------------------------------------


def test_thousands_of_unknown_fields_give_a_small_error(acme: Caller, sweep_json: Body) -> None:
    request = {**sweep_json, **{f"f{i}": 1 for i in range(5_000)}}
    response = acme.client.post(SWEEP, json=request)
    body = _error(response, 422)
    assert len(response.content) < 16_000
    assert body["details"]["more_errors"] == 5_000 - len(body["details"]["errors"])
    assert "more" in body["message"]


@pytest.mark.parametrize(
    ("url", "where"),
    [
        (SWEEP, "top"),
        (SWEEP, "settings"),
        (SWEEP, "ranges"),
        (BACKTEST, "parameters"),
        ("/api/v1/sweeps/estimate", "top"),
    ],
)
def test_a_huge_field_name_is_not_echoed_whole(
    acme: Caller, sweep_json: Body, url: str, where: str
) -> None:
    name = "x" * 60_000
    request = {**sweep_json}
    if url == BACKTEST:
        request = {"ticker": "GOOGL", "strategy_type": "SMA"}
    if where == "top":
        request[name] = 1
    else:
        request = {**request, "strategy_type": "MACD", where: {name: 1}}
    response = acme.client.post(url, json=request)
    _error(response, 422)
    assert len(response.content) < 8_000


def test_a_huge_value_is_not_echoed_whole(acme: Caller, sweep_json: Body) -> None:
    for field in ("objective", "strategy_type", "config_path", "ticker", "webhook_url"):
        response = acme.client.post(SWEEP, json={**sweep_json, field: "y" * 60_000})
        body = _error(response, 422)
        assert body["details"]["field"] == field
        assert len(response.content) < 8_000, field


# ---- 8. periods_per_year and walk-forward windows ----------------------------------------------


@pytest.mark.parametrize("value", [1e308, 31_622_401, 10**22])
def test_periods_per_year_has_a_bound(acme: Caller, value: float) -> None:
    request = {"ticker": "GOOGL", "strategy_type": "SMA", "periods_per_year": value}
    body = _error(acme.client.post(BACKTEST, json=request), 422)
    assert body["details"]["field"] == "periods_per_year"
    assert "31622400" in body["message"].replace(",", "").replace("_", "")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"train_bars": 10**12, "test_bars": 100}, "train_bars"),
        ({"train_bars": 500, "test_bars": 10**12}, "test_bars"),
        ({"train_bars": 500, "test_bars": 100, "step_bars": 10**12}, "step_bars"),
        ({"train_bars": 10**22, "test_bars": 100}, "train_bars"),
        ({"train_bars": 100_000, "test_bars": 100}, "train_bars"),  # more than GOOGL has
    ],
)
def test_walkforward_windows_are_bounded_at_submission(
    acme: Caller, sweep_json: Body, fields: Body, field: str
) -> None:
    for url in (WALKFORWARD, "/api/v1/walkforward/estimate"):
        body = _error(acme.client.post(url, json={**sweep_json, **fields}), 422)
        assert body["details"]["field"] == field, body


# ---- 9. errors name the request's field --------------------------------------------------------

FIELD_NAMES: list[tuple[str, Body, str]] = [
    (SWEEP, {"settings": {"fees": 5}}, "settings"),
    (SWEEP, {"settings": {"nonsense": 1}}, "settings"),
    (SWEEP, {"settings": {"fill": "later"}}, "settings"),
    (SWEEP, {"settings": {"stop_loss": 0.1, "stop_loss_atr": 2}}, "settings"),
    (SWEEP, {"settings": {"atr_period": 0}}, "settings"),
    (SWEEP, {"settings": {"fractional": "maybe"}}, "settings"),
    (SWEEP, {"strategy_type": "MACD", "ranges": {"signal": [0, 5]}}, "ranges"),
    (SWEEP, {"strategy_type": "MACD", "ranges": {"nonsense": [1, 5]}}, "ranges"),
    (SWEEP, {"strategy_type": "MACD", "ranges": {"signal": {"min": 9, "max": 5}}}, "ranges"),
    (SWEEP, {"strategy_type": "MACD", "ranges": {"signal": {"lo": 9}}}, "ranges"),
    (BACKTEST, {"parameters": {"fast": 30, "slow": 10}}, "parameters"),
    (BACKTEST, {"parameters": {"nonsense": 3}}, "parameters"),
    (BACKTEST, {"parameters": {"fast": 0}}, "parameters"),
    (BACKTEST, {"settings": {"fees": 5}}, "settings"),
    (BACKTEST, {"settings": {"nonsense": 5}}, "settings"),
]


@pytest.mark.parametrize(("url", "fields", "field"), FIELD_NAMES)
def test_every_error_names_the_request_field(
    acme: Caller, sweep_json: Body, url: str, fields: Body, field: str
) -> None:
    base = {"ticker": "GOOGL", "strategy_type": "SMA"} if url == BACKTEST else sweep_json
    body = _error(acme.client.post(url, json={**base, **fields}), 422)
    assert body["details"]["field"] == field, body
    for internal in ("setting", "parameter", "params"):
        assert internal not in body["details"], body


# ---- 10. the estimate routes are matched -------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/sweeps/estimate", "/api/v1/walkforward/estimate"])
def test_other_verbs_on_estimate_say_post(acme: Caller, path: str) -> None:
    for method in ("GET", "OPTIONS", "PUT", "DELETE"):
        response = acme.client.request(method, path)
        assert response.status_code == 405, (method, response.text)
        assert response.headers["allow"] == "POST"
        assert "no sweep run" not in response.text


def test_an_unsupported_method_names_every_method_of_the_path(acme: Caller) -> None:
    """405's ``Allow`` lists the methods of every route of the path, not only the first route's
    (``GET`` and ``POST /api/v1/datasets`` are two routes)."""
    paths = acme.client.get("/openapi.json").json()["paths"]
    for template, operations in paths.items():
        path = template.replace("{", "").replace("}", "")  # any id: the route still matches
        documented = {method.upper() for method in operations}
        for method in ("PATCH", "OPTIONS"):
            response = acme.client.request(method, path)
            _error(response, 405)
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert allowed - {"HEAD"} == documented, (method, template, response.headers["allow"])


# ---- generalised: query, path and header values ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/jobs", {"limit": str(2**64)}, "limit"),
        ("/api/v1/jobs", {"limit": "true"}, "limit"),
        ("/api/v1/jobs", {"limit": "1e400"}, "limit"),
        ("/api/v1/jobs", {"ticker": "x" * 1_000}, "ticker"),
        ("/api/v1/jobs", {"status": "x" * 1000}, "status"),
        ("/api/v1/jobs", {"cursor": "x" * 10_000}, "cursor"),
    ],
)
def test_query_values_are_bounded(acme: Caller, url: str, params: Body, field: str) -> None:
    body = _error(acme.client.get(url, params=params), 422)
    assert body["details"]["field"] == field
    assert len(json.dumps(body)) < 8_000


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/jobs/{}",
        "/api/v1/jobs/{}/deliveries",
        "/api/v1/sweeps/{}",
        "/api/v1/sweeps/{}/best",
        "/api/v1/sweeps/{}/results",
        "/api/v1/jobs/{}/stream",
    ],
)
@pytest.mark.parametrize("job_id", ["x" * 5_000, "%FF%FE", "9" * 40, "..%2F..%2Fetc"])
def test_odd_path_ids_are_a_4xx(acme: Caller, path: str, job_id: str) -> None:
    response = acme.client.get(path.format(job_id))
    body = _error(response, (404, 422))
    assert len(response.content) < 8_000, body


def test_cancel_of_an_odd_id_is_a_4xx(acme: Caller) -> None:
    for job_id in ("x" * 5_000, "%FF"):
        _error(acme.client.post(f"/api/v1/jobs/{job_id}/cancel"), (404, 422))
