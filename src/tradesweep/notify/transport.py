"""One HTTP POST to a checked destination, pinned to the address the SSRF guard approved.

The request goes to ``http(s)://<checked IP>:<port>/path`` with the original ``Host`` header
and, for https, the original name as TLS SNI and certificate name (httpx's ``sni_hostname``
extension), so no second DNS lookup can swap the address. Redirects are not followed (a 3xx
is a failed attempt), proxies from the environment are ignored (a proxy would resolve the name
itself), connections are not reused, and at most :attr:`HttpTransport.max_body` bytes of the
response are read and then dropped: response bodies are never stored or shown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from tradesweep.notify.ssrf import Destination

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_BODY = 4096


@dataclass(frozen=True)
class SendResult:
    """What one attempt got back: a status code, or an error naming what went wrong."""

    status_code: int | None
    error: str | None
    duration_ms: float
    bytes_read: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Transport(Protocol):
    timeout: float
    """The most seconds one :meth:`send` takes, all of it (the dispatcher's lease outlives it)."""

    def send(self, destination: Destination, body: bytes, headers: dict[str, str]) -> SendResult:
        """POST ``body`` to ``destination``; never raises for network trouble."""
        ...


class HttpTransport:
    """The real transport: httpx, pinned to ``destination.address``.

    ``timeout`` is one wall-clock deadline for the whole attempt: connecting, sending, and
    reading the status line and headers. A receiver that trickles its headers a line at a
    time is cut off at the deadline like one that says nothing (per-read timeouts would let it
    hold the attempt for ever). The response body is read, at most ``max_body`` bytes, until
    the same deadline; then the connection is closed and the status stands.

    Each send runs on an event loop of its own in the calling thread (the dispatcher's
    worker threads), so the deadline cancels the attempt wherever it is. ``transport``: an
    httpx transport to send through instead of the network (tests: ``httpx.MockTransport``).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_body: int = DEFAULT_MAX_BODY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be above 0 seconds, got {timeout!r}")
        self.timeout = timeout
        self.max_body = max_body
        self._transport = transport

    def send(self, destination: Destination, body: bytes, headers: dict[str, str]) -> SendResult:
        return asyncio.run(self._send(build_request(destination, body, headers)))

    def close(self) -> None:
        """Nothing is kept between sends (each has its own client and connection)."""

    async def _send(self, request: httpx.Request) -> SendResult:
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            async with self._client() as client:
                async with asyncio.timeout_at(deadline):
                    response = await client.send(request, stream=True, follow_redirects=False)
                try:
                    read = await self._drain(response, deadline)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            return SendResult(None, f"timeout after {self.timeout:g} s", _ms(started))
        except httpx.ConnectError as exc:
            return SendResult(None, f"connection failed ({_reason(exc)})", _ms(started))
        except httpx.HTTPError as exc:
            return SendResult(None, f"{type(exc).__name__} ({_reason(exc)})", _ms(started))
        return SendResult(response.status_code, None, _ms(started), read)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(self.timeout),  # each step too, the deadline bounds all
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def _drain(self, response: httpx.Response, deadline: float) -> int:
        # Read a little of the body so a well-behaved receiver sees its response consumed,
        # never more than max_body, never past the deadline. The bytes are dropped.
        if response.is_stream_consumed:  # an in-memory response (httpx.MockTransport)
            return min(len(response.content), self.max_body)
        read = 0
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_raw(chunk_size=1024):
                    read += len(chunk)
                    if read >= self.max_body:
                        break
        except (TimeoutError, httpx.TimeoutException):
            pass  # the status arrived in time: the attempt has its answer
        return min(read, self.max_body)


def build_request(destination: Destination, body: bytes, headers: dict[str, str]) -> httpx.Request:
    """The POST to the checked address: original Host header, SNI for https."""
    original = httpx.URL(destination.url)
    pinned = original.copy_with(host=destination.address)
    extensions = {}
    if destination.scheme == "https":
        extensions["sni_hostname"] = destination.host
    return httpx.Request(
        "POST",
        pinned,
        content=body,
        headers={**headers, "host": original.netloc.decode("ascii")},
        extensions=extensions,
    )


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000.0, 3)


def _reason(exc: Exception) -> str:
    # The first line of the underlying OSError, e.g. "[Errno 111] Connection refused".
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
