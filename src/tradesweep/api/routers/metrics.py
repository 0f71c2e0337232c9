"""``GET /metrics``: Prometheus text format (docs/observability.md).

The metrics name every tenant's tickers and best Sharpe ratios, so they are never public:
the scrape must send ``Authorization: Bearer <token>`` with the metrics token
(:attr:`ApiSettings.metrics_token`: ``$TRADESWEEP_METRICS_TOKEN``, else the ``metrics-token``
file ``tradesweep serve`` makes, mode 0600, in the data dir), a token of its own, never an API
key. Without a configured token ``/metrics`` answers 403 saying how to set one.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from tradesweep.api.deps import SettingsDep
from tradesweep.api.errors import Unauthorized, error_response
from tradesweep.api.openapi import errors
from tradesweep.api.schemas import ErrorOut
from tradesweep.observe import Metrics

router = APIRouter(tags=["observability"])

_TOKEN_FIX = (
    "send 'Authorization: Bearer <token>': the value of TRADESWEEP_METRICS_TOKEN, else of the "
    "file metrics-token in the server's data dir (docs/observability.md)"
)
_NO_TOKEN_FIX = (
    "set TRADESWEEP_METRICS_TOKEN on the server (`tradesweep serve` makes one in its data dir "
    "when it is unset), then scrape with 'Authorization: Bearer <token>'"
)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        **errors(),
        200: {"description": "Prometheus text exposition", "content": {"text/plain": {}}},
        401: {"model": ErrorOut, "description": "the metrics token is missing or wrong"},
        403: {
            "model": ErrorOut,
            "description": "no metrics token is configured: /metrics is closed",
        },
    },
)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """Every metric, in the Prometheus text format; the database-backed ones are read at
    scrape time (at most every 5 s)."""
    if settings.metrics_token is None:
        message = "/metrics is closed: no metrics token is configured"
        return error_response(403, "forbidden", message, {"fix": _NO_TOKEN_FIX})
    _check_token(request, settings.metrics_token)
    registry: Metrics = request.app.state.metrics
    async with request.app.state.write_gate:  # SQLite: the snapshot read takes its turn
        body, content_type = await run_in_threadpool(registry.exposition)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def _check_token(request: Request, token: str) -> None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("/metrics needs the metrics token", fix=_TOKEN_FIX)
    if not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        raise Unauthorized("wrong metrics token", fix=_TOKEN_FIX)
