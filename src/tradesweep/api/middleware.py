"""ASGI middleware: read each request body whole, within a size limit and a deadline,
before the app runs; give every request an id, a log line and its metrics."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradesweep.api.errors import (
    InvalidBody,
    PayloadTooLarge,
    domain_error_response,
    error_response,
)
from tradesweep.observe import Metrics, bind, get_logger
from tradesweep.observe import clear as clear_log_context

_access = get_logger("tradesweep.api.access")


class BodyLimit:
    """Read every request body whole, before the app sees the request, so no route (and no
    database transaction or SQLite write gate it takes) ever waits on the client's network.

    - 413 for a body over ``max_bytes``: at once when ``Content-Length`` says so (nothing is
      read), else as soon as the chunks received pass the limit (a chunked upload).
    - 408 with ``Connection: close`` when the whole body has not arrived ``timeout_seconds``
      after the headers: one wall-clock deadline for the body, not a timeout per read, so a
      client trickling a byte at a time is cut off too.

    The app then receives the body as one message (at most ``max_bytes`` held per request);
    later ``receive`` calls (a disconnect while streaming a response) go to the server. A
    request without a body (no ``Content-Length`` above 0, no ``Transfer-Encoding``) passes
    through untouched.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    def _too_large(self, size: str) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"request body of {size} is over the limit of {self.max_bytes:,} bytes",
            fix="send a smaller body: a sweep request is a few hundred bytes",
            limit_bytes=self.max_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        length: int | None = None
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                error: Exception = InvalidBody(
                    f"invalid Content-Length header {declared[:40]!r}",
                    fix="send the body's size in bytes",
                )
                await domain_error_response(error)(scope, receive, send)  # type: ignore[arg-type]
                return
            if length > self.max_bytes:
                too_large = self._too_large(f"{length:,} bytes")
                await domain_error_response(too_large)(scope, receive, send)
                return
        if not (length or "transfer-encoding" in headers):
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        received = 0

        async def read_all() -> bool:
            """True once the body is complete, False when the client went away."""
            nonlocal received
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return False
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    raise self._too_large(f"more than {received:,} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return True

        try:
            async with asyncio.timeout(self.timeout_seconds):
                complete = await read_all()
        except PayloadTooLarge as exc:
            await domain_error_response(exc)(scope, receive, send)
            return
        except TimeoutError:
            await self._timed_out(received, length)(scope, receive, send)
            return
        if not complete:
            return  # nobody to answer

        body = b"".join(chunks)
        chunks.clear()
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _timed_out(self, received: int, length: int | None) -> JSONResponse:
        of = f" of {length:,}" if length is not None else ""
        return error_response(
            408,
            "body_timeout",
            f"the request body did not arrive within {self.timeout_seconds:g} s "
            f"({received:,}{of} bytes received)",
            {
                "timeout_seconds": self.timeout_seconds,
                "received_bytes": received,
                "content_length": length,
                "fix": "send the whole body at once, right after the headers",
            },
            Connection="close",
        )


REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (``/api/v1/jobs/{job_id}``), never the
    raw path; ``unmatched`` when no route matched (a 404 for an unknown path)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(route, Mount):
        return f"{path}/{{path}}"
    if isinstance(path, str):
        return path or "/"
    if scope.get("endpoint") is not None:  # a mounted app (static files): its mount path
        mount = str(scope.get("root_path", ""))[len(str(scope.get("app_root_path", ""))) :]
        if mount:
            return f"{mount}/{{path}}"
    return "unmatched"


class RequestObserver:
    """Per HTTP request: an ``X-Request-ID`` (the caller's when it is a plain token of at most
    128 characters, else a new one) echoed in the response and bound as ``request_id`` on
    every log line of the request; one ``http_request`` log line at the end; and
    ``metrics.observe_request`` with the route template, the method, the status and the
    seconds until the response headers were sent (for a stream: its start, not its length).

    Pure ASGI: it never buffers a body, so streamed responses (SSE, CSV) pass through as sent.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        clear_log_context()  # each request is its own task: nothing of another one is bound
        bind(request_id=request_id)
        started = time.perf_counter()
        answered: float | None = None
        status = 500

        async def observed(message: Message) -> None:
            nonlocal answered, status
            if message["type"] == "http.response.start":
                answered = time.perf_counter()
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, observed)
        except Exception:
            if answered is None:
                # Answer the 500 here so it carries the request id; the error handler still
                # logs the traceback (with request_id bound) and sends nothing more.
                await error_response(
                    500, "internal_error", "internal server error (the server log has the details)"
                )(scope, receive, observed)
                status = 500
            raise
        finally:
            ended = time.perf_counter()
            route = route_template(scope)
            method = scope.get("method", "GET")
            self.metrics.observe_request(route, method, status, (answered or ended) - started)
            _access.info(
                "http_request",
                method=method,
                path=scope.get("path"),
                route=route,
                status=status,
                duration_ms=round((ended - started) * 1000, 1),
            )
