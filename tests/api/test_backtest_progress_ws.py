"""Progress over a WebSocket at ``/api/backtest/{id}/progress`` (what the orchestrator's browser
client opens), against a real server on SQLite and PostgreSQL: the same events as the SSE
stream; opened with a short-lived token, a key header or the session cookie from this site's
own pages, never with the key in the URL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tradesweep.api.ws import progress_token, read_progress_token

from .conftest import SECRET

Caller = Any
RUN = {"strategy_name": "ma_crossover_strategy", "symbol": "GOOGL", "timeframe": "1w"}


def ws_url(api: str, job_id: str, query: str = "") -> str:
    return f"{api.replace('http://', 'ws://')}/api/backtest/{job_id}/progress{query}"


def receive_all(url: str, **kwargs: Any) -> list[dict[str, Any]]:
    with connect(url, open_timeout=30, **kwargs) as socket:
        messages = []
        for text in socket:  # ends with the server's close after the final event
            messages.append(json.loads(text))
        return messages


def sse_events(client: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    events = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/stream") as stream:
        seq = None
        for line in stream.iter_lines():
            if line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: "):
                events.append({"id": seq, **json.loads(line[6:])})
    return events


def token_for(caller: Caller, job_id: str) -> str:
    answer = caller.client.post(f"/api/backtest/{job_id}/progress-token")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["expires_in"] == 60 and body["url"].endswith(body["token"])
    return str(body["token"])


def refused(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as raised:
        connect(url, open_timeout=30, **kwargs).close()
    return raised.value.response.status_code


def test_a_token_opens_the_live_stream_which_carries_the_sse_events(
    api: str, acme: Caller, start_worker: Callable[[], None]
) -> None:
    job_id = acme.client.post("/api/backtest/run", json=RUN).json()["id"]
    url = ws_url(api, job_id, f"?token={token_for(acme, job_id)}")
    got: list[dict[str, Any]] = []
    opened = threading.Event()

    def listen() -> None:
        with connect(url, open_timeout=30) as socket:
            opened.set()
            got.extend(json.loads(text) for text in socket)

    listener = threading.Thread(target=listen)
    listener.start()
    assert opened.wait(30)
    start_worker()  # the job starts only now: the socket sees it live
    listener.join(180)
    assert not listener.is_alive()
    assert got[-1]["event"] == "completed" and got[-1]["done"] is True
    want = sse_events(acme.client, job_id)
    assert [{k: v for k, v in m.items() if k != "event"} for m in got] == want
    assert [m["id"] for m in got] == list(range(1, len(got) + 1))


def test_key_header_and_finished_job_replay(
    api: str, acme: Caller, start_worker: Callable[[], None]
) -> None:
    job_id = acme.client.post("/api/backtest/run", json=RUN).json()["id"]
    start_worker()
    deadline = time.monotonic() + 180
    while acme.client.get(f"/api/backtest/{job_id}/status").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    got = receive_all(ws_url(api, job_id), additional_headers={"X-API-Key": acme.key})
    assert got[-1]["event"] == "completed"
    want = sse_events(acme.client, job_id)
    assert [{k: v for k, v in m.items() if k != "event"} for m in got] == want


def test_the_session_cookie_only_from_this_sites_pages(
    api: str, anonymous: httpx.Client, acme: Caller
) -> None:
    job_id = acme.client.post("/api/backtest/run", json=RUN).json()["id"]
    login = anonymous.post("/api/v1/auth/login", json={"api_key": acme.key})
    assert login.status_code == 200, login.text
    cookie = "; ".join(f"{k}={v}" for k, v in anonymous.cookies.items())
    own = api.lower()
    with connect(
        ws_url(api, job_id), additional_headers={"Cookie": cookie}, origin=own, open_timeout=30
    ) as socket:
        socket.close()  # opened: the job is queued, nothing sent yet
    evil = {"additional_headers": {"Cookie": cookie}, "origin": "https://evil.example"}
    assert refused(ws_url(api, job_id), **evil) == 403
    # the browser's own word that the page is another site's, whatever Origin says
    cross = {"Cookie": cookie, "Sec-Fetch-Site": "cross-site"}
    assert refused(ws_url(api, job_id), additional_headers=cross, origin=own) == 403


def test_what_does_not_open_it(
    api: str, acme: Caller, make_caller: Callable[[str], Caller]
) -> None:
    job_id = acme.client.post("/api/backtest/run", json=RUN).json()["id"]
    other_job = acme.client.post("/api/backtest/run", json=RUN | {"timeframe": "1M"}).json()["id"]
    globex = make_caller("globex")
    assert refused(ws_url(api, job_id)) == 401  # nothing
    assert refused(ws_url(api, job_id, f"?api_key={acme.key}")) == 401  # the key in the URL
    assert refused(ws_url(api, job_id, f"?token={token_for(acme, other_job)}")) == 401
    assert refused(ws_url(api, job_id, "?token=forged.ts_x.9999999999.00")) == 401
    # a non-ASCII MAC is refused like any forged one (hmac.compare_digest refuses such str)
    assert refused(ws_url(api, job_id, f"?token={job_id}.ts_x.9999999999.%C3%A9")) == 401
    assert refused(ws_url(api, job_id), additional_headers={"X-API-Key": globex.key}) == 404
    assert globex.client.post(f"/api/backtest/{job_id}/progress-token").status_code == 404


def test_tokens_expire_and_name_their_job() -> None:
    token = progress_token("job-1", "ts_abc", SECRET)
    assert read_progress_token(token, "job-1", SECRET) == "ts_abc"
    assert read_progress_token(token, "job-2", SECRET) is None
    assert read_progress_token(token, "job-1", b"another secret") is None
    old = progress_token("job-1", "ts_abc", SECRET, now=time.time() - 61)
    assert read_progress_token(old, "job-1", SECRET) is None
