"""Every error the API answers, in one shape: ``{"error": code, "message": text, "details": {}}``.

One table (:data:`STATUS`) maps domain errors to HTTP statuses; :func:`install_error_handlers`
registers the handlers that apply it, turn request validation into 422 naming the field, a
database that cannot be reached into 503 with ``Retry-After``, and anything unexpected into a
plain 500 (the traceback goes to the server log, never to the client) on a connection that
stays open (:class:`InternalErrors`).

An error is never much bigger than what caused it (:func:`error_response`): it lists at most
:data:`MAX_LISTED_ERRORS` field errors and counts the rest, and any run of more than
:data:`MAX_ECHO_CHARS` characters without a space (a field name or value repeated from the
request) is cut, saying how long it was. Its words are the API's: a CLI flag that a shared
message names is said as the field (:func:`tradesweep.vocabulary.for_api`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradesweep.errors import DatasetExists, DatasetReadOnly, TradesweepError, did_you_mean
from tradesweep.store import IdempotencyConflict, NotFound
from tradesweep.vocabulary import for_api

log = logging.getLogger("tradesweep.api")


class Unauthorized(TradesweepError):
    """No API key or session, or one that is wrong or revoked."""

    code = "unauthorized"


class PayloadTooLarge(TradesweepError):
    code = "payload_too_large"


class InvalidBody(TradesweepError):
    """A body that is not JSON or form data, or not an object."""

    code = "invalid_body"


class UnsupportedMediaType(TradesweepError):
    code = "unsupported_media_type"


class TooManyRequests(TradesweepError):
    """A limit of the caller's is reached (:mod:`tradesweep.api.limits`); the answer's
    ``Retry-After`` is ``details.retry_after_seconds``."""

    code = "too_many_requests"


class NotReady(TradesweepError):
    """What was asked for comes with the job's end, and the job has not ended."""

    code = "not_ready"


STATUS: dict[type[TradesweepError], int] = {
    NotFound: 404,
    IdempotencyConflict: 409,
    Unauthorized: 401,
    PayloadTooLarge: 413,
    InvalidBody: 400,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    NotReady: 409,
    DatasetExists: 409,
    DatasetReadOnly: 403,
}
"""HTTP status of each domain error; every other :class:`TradesweepError` is bad input: 422."""

MAX_LISTED_ERRORS = 20
"""Field errors an answer lists; ``details.more_errors`` counts the others."""
MAX_ECHO_CHARS = 100
"""Characters of a field name or value an error repeats; a longer one is cut."""
MAX_TEXT_CHARS = 4_000
"""Characters of any one string of an error (a message listing every valid choice fits)."""
_MAX_ITEMS = 100  # a backstop for any list in details; the field errors stop at 20
_LONG_RUN = re.compile(r"[^\s,;'\"()\[\]{}]" + f"{{{MAX_ECHO_CHARS + 1},}}")

_DB_DOWN = (OperationalError, InterfaceError, PoolTimeout)
_LOCATIONS = ("body", "query", "path", "header", "cookie")


def status_of(exc: TradesweepError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 422


def clip(text: str) -> str:
    """``text`` with every run of more than :data:`MAX_ECHO_CHARS` characters between spaces
    or punctuation cut to that many, saying how long it was; at most :data:`MAX_TEXT_CHARS`
    characters in all."""
    text = _LONG_RUN.sub(lambda m: f"{m[0][:MAX_ECHO_CHARS]}...({len(m[0]):,} chars)", text)
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "..."


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return clip(for_api(value))
    if isinstance(value, dict):
        return {clip(str(k)): _bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(v) for v in value[:_MAX_ITEMS]]
    return value


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, **headers: str
) -> JSONResponse:
    """The one shape of every error; what it repeats of the request is bounded (see the
    module docstring), so an error is never a multiple of the request that caused it."""
    return JSONResponse(
        {"error": code, "message": clip(for_api(message)), "details": _bounded(details or {})},
        status_code=status,
        headers=headers or None,
    )


def domain_error_response(exc: TradesweepError) -> JSONResponse:
    status = status_of(exc)
    body = exc.to_dict()
    headers = {"WWW-Authenticate": 'Bearer realm="tradesweep"'} if status == 401 else {}
    if status == 413:
        headers["Connection"] = "close"
    if status == 429:
        headers["Retry-After"] = str(exc.details.get("retry_after_seconds", 1))
    return error_response(status, body["error"], body["message"], body["details"], **headers)


def request_validation_error(
    model: type[BaseModel], exc: ValidationError, where: str = "body"
) -> RequestValidationError:
    """A model's :class:`ValidationError` as FastAPI's, each error with a ``fix`` taken from
    the model (the field's description, or the valid fields for an unknown one)."""
    fields = model.model_fields
    errors = []
    for details in exc.errors(include_url=False, include_context=False):
        error: dict[str, Any] = dict(details)
        name = str(error["loc"][0]) if error["loc"] else None
        if error["type"] == "extra_forbidden" and name is not None:
            error["msg"] = "unknown field"
            error["fix"] = f"{did_you_mean(name, fields)}valid fields: {', '.join(fields)}"
        elif name in fields and "(" not in error["msg"]:
            description = fields[name].description
            if description:
                verb = "send " + name + ": " if error["type"] == "missing" else ""
                error["fix"] = verb + description
        error["loc"] = (where, *error["loc"])
        errors.append(error)
    return RequestValidationError(errors)


def _path(loc: Sequence[Any]) -> list[str]:
    parts = [clip(str(p)) for p in loc]
    return parts[1:] if parts and parts[0] in _LOCATIONS else parts


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    """``field`` is the top-level field (``fast_range``), ``path`` the place in it
    (``fast_range.1``), ``message`` starts with the path."""
    path = _path(error.get("loc", ())) or ["body"]
    where = ".".join(path)
    message = str(error.get("msg", "invalid"))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if error.get("fix"):
        message = f"{message} ({error['fix']})"
    return {
        "field": path[0],
        "path": where,
        "message": f"{where}: {message}",
        "type": error.get("type"),
    }


async def _on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    described = [_describe(dict(e)) for e in errors[:MAX_LISTED_ERRORS]]
    first = described[0] if described else {"field": "body", "message": "invalid request"}
    details: dict[str, Any] = {"field": first["field"], "errors": described}
    message = "; ".join(d["message"] for d in described) or first["message"]
    more = len(errors) - len(described)
    if more:
        details["more_errors"] = more
        message += f"; and {more:,} more error(s)"
    return error_response(422, "validation_error", message, details)


async def _on_domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TradesweepError)
    return domain_error_response(exc)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    message = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else phrase
    if exc.status_code == 404 and message == phrase:
        message = "no such endpoint (see /docs for the API)"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = allowed
    return error_response(exc.status_code, code, message, {}, **headers)


def _allowed_methods(request: Request) -> str | None:
    """For a 405 of the router (the method is none of the route that matched the path): every
    method the path is documented with, as ``Allow``. Starlette names only the first matching
    route's methods (``GET /api/v1/datasets`` and ``POST`` are two routes: ``Allow: GET``).
    A literal path (``/api/v1/sweeps/estimate``) is routed before a template
    (``/api/v1/sweeps/{sweep_run_id}``), so only its own methods count. None for a route's own
    405 (it names its methods itself) and for a path outside the API's schema."""
    route = request.scope.get("route")
    methods = getattr(route, "methods", None)
    if not methods or request.method in methods:
        return None
    path = get_route_path(request.scope)
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    matching = [(t, ops) for t, ops in paths.items() if compile_path(t)[0].match(path)]
    chosen = [ops for t, ops in matching if "{" not in t] or [ops for _, ops in matching]
    allowed = {method.upper() for operations in chosen for method in operations}
    return ", ".join(sorted(allowed)) or None


def _on_database_down(retry_after: int) -> Any:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return error_response(
            503,
            "database_unavailable",
            "the database cannot be reached right now (retry shortly)",
            {"retry_after_seconds": retry_after},
            **{"Retry-After": str(retry_after)},
        )

    return handler


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """The last resort, for an error in a middleware outside :class:`InternalErrors` (the
    server then closes the connection)."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "internal_error", "internal server error (the server log has the details)"
    )


class InternalErrors:
    """Anything a route raises that no handler maps answers a JSON 500, and the connection
    stays open for the client's next request. (Starlette's own last-resort handler answers,
    then re-raises to the server, which closes the keep-alive connection under the client.)

    It sits just outside the routes, inside every other middleware, so they see a plain 500.
    An error after the response has started cannot be answered: it goes on to the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started:
                raise
            log.exception(
                "unhandled error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc
            )
            response = error_response(
                500, "internal_error", "internal server error (the server log has the details)"
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI, *, retry_after_seconds: int) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(TradesweepError, _on_domain)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    for exc_type in _DB_DOWN:
        app.add_exception_handler(exc_type, _on_database_down(retry_after_seconds))
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(InternalErrors)  # added first: the innermost middleware
