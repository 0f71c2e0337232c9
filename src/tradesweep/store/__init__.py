"""Persistence: SQLAlchemy 2 models, repositories and Alembic migrations.

Typical use (one transaction per unit of work; repositories flush, the caller commits)::

    engine = make_engine()  # $TRADESWEEP_DATABASE_URL or <data dir>/tradesweep.db
    upgrade_database(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        tenant = TenantRepository(session).get_or_create("acme")
        job, created = JobRepository(session).create(tenant.id, JobType.SWEEP, {...})
"""

from tradesweep.store.db import (
    DATABASE_URL_ENV,
    default_database_url,
    make_engine,
    session_factory,
)
from tradesweep.store.errors import IdempotencyConflict, InvalidTenant, NotFound
from tradesweep.store.jobs import CreatedJob, JobRepository, request_hash
from tradesweep.store.migrate import current_revision, head_revision, upgrade_database
from tradesweep.store.models import (
    FINISHED_STATUSES,
    METRIC_COLUMNS,
    ApiKey,
    BacktestRun,
    BacktestTrade,
    Base,
    DeliveryStatus,
    Job,
    JobEvent,
    JobStatus,
    JobType,
    SweepResultRow,
    SweepRun,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
    WorkerRecord,
)
from tradesweep.store.outbox import OutboxRepository, job_webhook_payload, new_webhook_id
from tradesweep.store.pagination import Page
from tradesweep.store.paper import (
    PaperCandle,
    PaperOrder,
    PaperOrderStatus,
    PaperPosition,
    PaperSession,
    PaperSessionStatus,
    PaperSignal,
    PaperSnapshot,
    PaperSource,
    PaperTrade,
    order_id,
)
from tradesweep.store.paper_repo import InvalidSessionTransition, PaperRepository
from tradesweep.store.results import BacktestRepository, SweepResultRepository
from tradesweep.store.tenants import (
    ApiKeyRepository,
    IssuedKey,
    Revocation,
    TenantRepository,
    hash_key,
)

__all__ = [
    "DATABASE_URL_ENV",
    "FINISHED_STATUSES",
    "METRIC_COLUMNS",
    "ApiKey",
    "ApiKeyRepository",
    "BacktestRepository",
    "BacktestRun",
    "BacktestTrade",
    "Base",
    "CreatedJob",
    "DeliveryStatus",
    "IdempotencyConflict",
    "InvalidSessionTransition",
    "InvalidTenant",
    "IssuedKey",
    "Job",
    "JobEvent",
    "JobRepository",
    "JobStatus",
    "JobType",
    "NotFound",
    "OutboxRepository",
    "Page",
    "PaperCandle",
    "PaperOrder",
    "PaperOrderStatus",
    "PaperPosition",
    "PaperRepository",
    "PaperSession",
    "PaperSessionStatus",
    "PaperSignal",
    "PaperSnapshot",
    "PaperSource",
    "PaperTrade",
    "Revocation",
    "SweepResultRepository",
    "SweepResultRow",
    "SweepRun",
    "Tenant",
    "TenantRepository",
    "WebhookAttempt",
    "WebhookDelivery",
    "WorkerRecord",
    "current_revision",
    "default_database_url",
    "hash_key",
    "head_revision",
    "job_webhook_payload",
    "make_engine",
    "new_webhook_id",
    "order_id",
    "request_hash",
    "session_factory",
    "upgrade_database",
]
