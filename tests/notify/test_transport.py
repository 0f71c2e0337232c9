"""The pinned transport against real servers on 127.0.0.1: the checked address is the one
connected to, redirects are not followed, response bodies are capped, timeouts are reported."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tradesweep.notify import HttpTransport, build_request, resolve_destination


def _pinned_resolver(answer: str):  # type: ignore[no-untyped-def]
    # Only the DNS step is faked; the connection below is real.
    return lambda host, port: [answer]


def test_connects_to_the_checked_address_and_sends_the_original_host(
    receiver: Callable[..., object],
) -> None:
    hook = receiver(204)
    url = f"http://hooks.internal.test:{hook.port}/in?x=1"  # type: ignore[attr-defined]
    dest = resolve_destination(url, allow_private=True, resolver=_pinned_resolver("127.0.0.1"))
    result = HttpTransport(timeout=5).send(dest, b'{"a":1}', {"content-type": "application/json"})
    assert result.status_code == 204 and result.error is None and result.ok
    (seen,) = hook.seen  # type: ignore[attr-defined]
    assert seen.path == "/in?x=1"
    assert seen.headers["host"] == f"hooks.internal.test:{hook.port}"  # type: ignore[attr-defined]
    assert seen.body == b'{"a":1}'


def test_https_requests_carry_the_name_for_sni_and_the_certificate() -> None:
    dest = resolve_destination(
        "https://hooks.example.com:8443/p", resolver=_pinned_resolver("93.184.216.34")
    )
    request = build_request(dest, b"{}", {})
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    captured: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        captured.append(req)
        return httpx.Response(200)

    assert HttpTransport(transport=httpx.MockTransport(handler)).send(dest, b"{}", {}).ok
    assert captured[0].extensions["sni_hostname"] == "hooks.example.com"


def test_a_redirect_is_not_followed(receiver: Callable[..., object]) -> None:
    elsewhere = receiver(200)
    hook = receiver({"status": 302, "headers": {"location": elsewhere.url("/stolen")}})  # type: ignore[attr-defined]
    dest = resolve_destination(hook.url(), allow_private=True)  # type: ignore[attr-defined]
    result = HttpTransport(timeout=5).send(dest, b"{}", {})
    assert result.status_code == 302 and not result.ok
    assert len(hook.seen) == 1  # type: ignore[attr-defined]
    assert elsewhere.seen == []  # type: ignore[attr-defined]


def test_an_endless_response_body_is_read_only_up_to_the_cap(
    receiver: Callable[..., object],
) -> None:
    hook = receiver({"status": 200, "endless": True})
    dest = resolve_destination(hook.url(), allow_private=True)  # type: ignore[attr-defined]
    started = time.monotonic()
    result = HttpTransport(timeout=5, max_body=2048).send(dest, b"{}", {})
    assert result.status_code == 200
    assert result.bytes_read == 2048
    assert time.monotonic() - started < 3


def test_a_slow_receiver_times_out(receiver: Callable[..., object]) -> None:
    hook = receiver({"status": 200, "delay": 2.0})
    dest = resolve_destination(hook.url(), allow_private=True)  # type: ignore[attr-defined]
    result = HttpTransport(timeout=0.5).send(dest, b"{}", {})
    assert result.status_code is None
    assert result.error == "timeout after 0.5 s"
    assert 400 <= result.duration_ms < 1900


def test_nothing_listening_is_a_connection_error(dead_port: int) -> None:
    dest = resolve_destination(f"http://127.0.0.1:{dead_port}/", allow_private=True)
    result = HttpTransport(timeout=2).send(dest, b"{}", {})
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("connection failed")


def test_proxy_settings_in_the_environment_are_ignored(
    receiver: Callable[..., object], monkeypatch: object
) -> None:
    # A proxy would resolve the name itself and undo the pinning.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # type: ignore[attr-defined]
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")  # type: ignore[attr-defined]
    hook = receiver(200)
    dest = resolve_destination(hook.url(), allow_private=True)  # type: ignore[attr-defined]
    assert HttpTransport(timeout=5).send(dest, b"{}", {}).ok
