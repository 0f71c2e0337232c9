"""Typed dependencies the routes declare: settings, one database transaction per request,
the authenticated caller, the dataset registry, a request body read from JSON or a form, and
the limits a submission passes first (:data:`SubmissionLimits`).

The request's transaction (:data:`SessionDep`, shared by authentication and the route)
commits when the route returns, before the response is sent (``scope="function"``), so a 202
is only answered for a job that is stored. The dashboard routes that compute after checking
the caller (replaying a backtest, validating an uploaded file, planning a sweep) take
:data:`CallerDep` instead: the same authentication with the same errors, in a transaction of
its own that ends before the work starts (:data:`PrincipalDep` shares the route's transaction,
which on SQLite holds the database, and so every other request, until the route returns).
Dependencies that do no I/O are ``async`` so they cost no thread hop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import nullcontext
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tradesweep.api import limits
from tradesweep.api.auth import Principal, authenticate
from tradesweep.api.errors import InvalidBody, UnsupportedMediaType, request_validation_error
from tradesweep.api.settings import ApiSettings
from tradesweep.data import DatasetRegistry
from tradesweep.jsontext import TooDeep, loads
from tradesweep.observe import bind

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions  # type: ignore[no-any-return]


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction for the request, committed when the route returns. On SQLite the
    requests take turns through ``app.state.write_gate`` (an asyncio lock, FIFO) because every
    SQLite transaction holds the database's write lock: waiting here is fair and cheap, while
    many threads waiting inside SQLite's busy handler sleep in growing steps and time out."""
    state = request.app.state
    async with state.write_gate:
        session: Session = state.sessions()
        try:
            yield session
        except BaseException:
            await run_in_threadpool(session.close)  # rolls back
            raise
        await run_in_threadpool(_commit_and_close, session)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _authenticate(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    return authenticate(session, request, settings.session_secret)


async def get_principal(principal: Annotated[Principal, Depends(_authenticate)]) -> Principal:
    """The caller; its tenant is bound to the request's log lines (here, in the request's own
    task: a binding made in the thread that authenticated would not outlive that thread)."""
    bind(tenant=principal.tenant_name)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def short_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """``work(session)`` in one transaction of its own, taking its turn through the app's
    SQLite write gate when it has one."""
    state = request.app.state
    gate = getattr(state, "write_gate", None) or nullcontext()
    async with gate:
        return await run_in_threadpool(_run, state.sessions, work)


def _run(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    with sessions.begin() as session:
        return work(session)


async def get_caller(request: Request, settings: SettingsDep) -> Principal:
    return await short_transaction(
        request, lambda session: authenticate(session, request, settings.session_secret)
    )


CallerDep = Annotated[Principal, Depends(get_caller)]
"""The authenticated caller, checked in a short transaction of its own."""


async def get_registry(settings: SettingsDep) -> DatasetRegistry:
    return DatasetRegistry(settings.data_dir)


RegistryDep = Annotated[DatasetRegistry, Depends(get_registry)]

IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key and body returns the original job",
    ),
]


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict: JSON (an object), or form fields (``application/x-www-form-
    urlencoded`` or ``multipart/form-data``) where a field sent several times becomes a list.
    An empty body is ``{}``, so every missing field gets named."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in _FORMS:
        form = await request.form()
        fields: dict[str, Any] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                raise InvalidBody(f"form field '{name}' is a file", fix="send text fields only")
            fields.setdefault(name, []).append(value)
        body = {k: v[0] if len(v) == 1 else v for k, v in fields.items()}
        limits.reject_nul(body)
        return body
    if media and media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"unsupported Content-Type {media!r}",
            fix="send application/json or application/x-www-form-urlencoded",
        )
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = loads(raw)
    except TooDeep as exc:
        raise InvalidBody(
            f"the body is {exc}",
            fix="send a flat JSON object; no field needs more than a few levels",
            field="body",
            max_depth=exc.max_depth,
        ) from None
    except ValueError as exc:
        raise InvalidBody(
            f"the body is not valid JSON: {exc}", fix='send a JSON object, e.g. {"ticker": ...}'
        ) from None
    if not isinstance(data, dict):
        raise InvalidBody(
            f"the body must be a JSON object, got {type(data).__name__}",
            fix='send {"ticker": ..., ...}',
        )
    limits.reject_nul(data)
    return data


BodyDep = Annotated[dict[str, Any], Depends(read_body)]


def sent_as_form(request: Request) -> bool:
    """Whether the body came as form fields (a spec is only ever taken as JSON)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() in _FORMS


def check_submission_limits(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> None:
    """The caller's submission rate (its key's token bucket, ``app.state.submit_buckets``),
    then the tenant's active-job cap, counted in the request's transaction."""
    limits.check_rate(request.app.state.submit_buckets, principal)
    limits.check_active_jobs(
        session,
        principal.tenant_id,
        settings.max_active_jobs,
        idempotency_key=idempotency_key,
        retry_after_seconds=settings.retry_after_seconds,
    )


SubmissionLimits = Depends(check_submission_limits)
"""``@router.post(..., dependencies=[SubmissionLimits])`` on every route that queues a job:
runs before the body is read."""


def validated(
    model: type[ModelT], body: dict[str, Any], *, tickers: Collection[str] | None = None
) -> ModelT:
    """``body`` validated into ``model``; failures become a 422 naming each field and how to
    fix it. With ``tickers``, the ticker must be one of them."""
    try:
        return model.model_validate(
            body, context={"tickers": set(tickers)} if tickers is not None else None
        )
    except ValidationError as exc:
        raise request_validation_error(model, exc) from None
