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
    METRIC_COLUMNS,
    ApiKey,
    BacktestRun,
    BacktestTrade,
    Base,
    Job,
    JobEvent,
    JobStatus,
    JobType,
    SweepResultRow,
    SweepRun,
    Tenant,
)
from tradesweep.store.pagination import Page
from tradesweep.store.results import BacktestRepository, SweepResultRepository
from tradesweep.store.tenants import ApiKeyRepository, IssuedKey, TenantRepository, hash_key

__all__ = [
    "DATABASE_URL_ENV",
    "METRIC_COLUMNS",
    "ApiKey",
    "ApiKeyRepository",
    "BacktestRepository",
    "BacktestRun",
    "BacktestTrade",
    "Base",
    "CreatedJob",
    "IdempotencyConflict",
    "InvalidTenant",
    "IssuedKey",
    "Job",
    "JobEvent",
    "JobRepository",
    "JobStatus",
    "JobType",
    "NotFound",
    "Page",
    "SweepResultRepository",
    "SweepResultRow",
    "SweepRun",
    "Tenant",
    "TenantRepository",
    "current_revision",
    "default_database_url",
    "hash_key",
    "head_revision",
    "make_engine",
    "request_hash",
    "session_factory",
    "upgrade_database",
]
