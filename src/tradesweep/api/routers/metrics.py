"""``GET /metrics``: Prometheus text format (docs/observability.md).

No API key: Prometheus scrapes it. When ``$TRADESWEEP_METRICS_TOKEN`` is set
(:attr:`ApiSettings.metrics_token`), the scrape must send ``Authorization: Bearer <token>``,
a token of its own, never an API key.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from tradesweep.api.deps import SettingsDep
from tradesweep.api.errors import Unauthorized
from tradesweep.api.openapi import errors
from tradesweep.api.schemas import ErrorOut
from tradesweep.observe import Metrics

router = APIRouter(tags=["observability"])

_TOKEN_FIX = "send 'Authorization: Bearer <the value of TRADESWEEP_METRICS_TOKEN>'"


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        **errors(),
        200: {"description": "Prometheus text exposition", "content": {"text/plain": {}}},
        401: {
            "model": ErrorOut,
            "description": "TRADESWEEP_METRICS_TOKEN is set and the token is missing or wrong",
        },
    },
)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """Every metric, in the Prometheus text format; the database-backed ones are read at
    scrape time (at most every 5 s)."""
    if settings.metrics_token is not None:
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
