"""ASGI middleware: refuse request bodies over the size limit before reading them; give
every request an id, a log line and its metrics."""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
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
    """413 for a body over ``max_bytes``: at once when ``Content-Length`` says so (nothing is
    read), else as soon as the chunks received pass the limit (a chunked upload)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

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
        declared = dict(scope["headers"]).get(b"content-length")
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

        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large(f"more than {received:,} bytes")
            return message

        await self.app(scope, limited, send)


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
