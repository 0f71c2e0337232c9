"""A job's progress as Server-Sent Events: ``GET /api/v1/jobs/{job_id}/stream``, also served at
``/sse-proxy/jobs/{job_id}/stream`` for the clients of the pipeline this service replaces.

Authorised like every route (API key or the session cookie); another tenant's job is 404.
The authenticating transaction ends before the first byte is streamed; each poll after that
is its own short transaction (:mod:`tradesweep.api.sse`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from tradesweep.api.deps import PrincipalDep, SessionDep, SettingsDep
from tradesweep.api.openapi import BY_ID
from tradesweep.api.sse import FINISHED, HEADERS, MAX_EVENT_ID, MEDIA_TYPE, JobEventStream
from tradesweep.services import jobs

router = APIRouter(tags=["jobs"], responses=BY_ID)

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "``text/event-stream``: ``id: <seq>`` and ``data: <JSON>`` per event; "
        "``: keep-alive`` comments while nothing happens",
        "content": {MEDIA_TYPE: {}},
    },
    204: {"description": "the job is finished and Last-Event-ID is its final event"},
}


def stream_job(
    job_id: str,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            le=MAX_EVENT_ID,
            description="resume after this event id",
        ),
    ] = None,
    last_event_id_query: Annotated[
        int | None,
        Query(
            alias="last_event_id",
            ge=0,
            le=MAX_EVENT_ID,
            description="the same, for EventSource polyfills that cannot send headers",
        ),
    ] = None,
) -> Response:
    """Progress events of a job, from the first (or after ``Last-Event-ID``) to its final
    event (completed, failed or cancelled), then the stream ends."""
    job = jobs.find(session, principal.tenant_id, job_id)
    after = last_event_id if last_event_id is not None else last_event_id_query or 0
    if job.status in FINISHED and after >= job.event_seq:
        # The client has everything: 204 tells an EventSource to stop reconnecting.
        return Response(status_code=204, headers={"Cache-Control": "no-cache"})
    state = request.app.state
    events = JobEventStream(
        state.sessions,
        job.id,
        after=after,
        gate=state.write_gate,
        disconnected=request.is_disconnected,
        poll_seconds=settings.sse_poll_seconds,
        heartbeat_seconds=settings.sse_heartbeat_seconds,
        stopping=state.stopping,
    )
    return StreamingResponse(events, media_type=MEDIA_TYPE, headers=HEADERS)


for _path in ("/api/v1/jobs/{job_id}/stream", "/sse-proxy/jobs/{job_id}/stream"):
    router.add_api_route(
        _path,
        stream_job,
        methods=["GET"],
        response_class=StreamingResponse,
        responses=_SSE_DOC,
        name=f"stream_job{'_proxy' if 'proxy' in _path else ''}",
    )
