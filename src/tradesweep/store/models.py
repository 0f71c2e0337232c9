"""The database schema as SQLAlchemy 2 typed models.

The models describe the schema; Alembic migrations (``store/migrations``) are the only thing
that creates or changes it. ``tests/store/test_migrations.py`` fails when the two disagree.
Every timestamp is a timezone-aware UTC ``datetime`` (:class:`UTCDateTime`), every JSON column
is JSON on SQLite and JSONB on PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tradesweep.metrics.table import METRICS
from tradesweep.store.types import BigIntPK, JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


def new_id() -> str:
    return str(uuid.uuid4())


class JobStatus(str, Enum):  # noqa: UP042  (equal to its value, like arq)
    """Where a job is in its life. Terminal: :data:`FINISHED_STATUSES`."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in FINISHED_STATUSES


FINISHED_STATUSES: tuple[JobStatus, ...] = (
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)
"""The terminal statuses: a job in one never changes again (streams end, prune may delete)."""


class JobType(str, Enum):  # noqa: UP042
    BACKTEST = "backtest"
    SWEEP = "sweep"
    WALKFORWARD = "walkforward"


def _str_enum(enum: type[Enum]) -> SAEnum:
    # Stored as VARCHAR holding the lowercase value (no native PG enum: adding a member
    # would need a migration that cannot run inside a transaction).
    return SAEnum(
        enum,
        native_enum=False,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_TIMEOUT_SECONDS = 3600


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # Placeholder for per-tenant webhook signing (tradesweep.notify); not set by this layer.
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    # Where a job submitted without its own webhook_url is announced (None: nowhere).
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key: only its sha256 is stored; ``prefix`` identifies it in listings."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Job(Base):
    """One unit of work. Queue columns (lease, run_after, attempts) are driven by
    ``tradesweep.jobs``; this layer only creates, reads and logs events."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_jobs_status_run_after", "status", "run_after"),
        Index("ix_jobs_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[JobType] = mapped_column(_str_enum(JobType))
    status: Mapped[JobStatus] = mapped_column(_str_enum(JobStatus), default=JobStatus.QUEUED)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None]
    # {"duration_seconds", "combinations_tested", ...}
    metrics: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_ATTEMPTS)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_TIMEOUT_SECONDS)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Last seq handed to job_events; bumped with UPDATE ... RETURNING so appends never race.
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    ticker: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class JobEvent(Base):
    __tablename__ = "job_events"
    __table_args__ = (UniqueConstraint("job_id", "seq"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SweepRun(Base):
    __tablename__ = "sweep_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    ticker: Mapped[str] = mapped_column(String(40))
    strategy: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]
    spec_id: Mapped[str | None] = mapped_column(String(64), index=True)
    grid_combinations: Mapped[int] = mapped_column(Integer, default=0)
    valid_combinations: Mapped[int] = mapped_column(Integer, default=0)
    evaluated: Mapped[int] = mapped_column(Integer, default=0)
    diagnostics: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SweepResultRow(Base):
    """One evaluated combination: its params (JSON), its score and every metric of
    :data:`tradesweep.metrics.KEYS` as a typed column, so results can be filtered and sorted
    in SQL."""

    __tablename__ = "sweep_results"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    sweep_run_id: Mapped[str] = mapped_column(ForeignKey("sweep_runs.id", ondelete="CASCADE"))
    ticker: Mapped[str] = mapped_column(String(40))
    strategy: Mapped[str] = mapped_column(String(64))
    grid_index: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict[str, Any]]
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    below_min_trades: Mapped[bool] = mapped_column(Boolean, default=False)
    # metric columns: one per stored row of tradesweep.metrics.table.METRICS, same name, same
    # order; the type follows the unit (date: datetime, count: int, text: str, else float)
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    bars: Mapped[int | None] = mapped_column(Integer)
    periods_per_year: Mapped[float | None] = mapped_column(Float)
    final_equity: Mapped[float | None] = mapped_column(Float)
    total_return_pct: Mapped[float | None] = mapped_column(Float)
    buy_and_hold_return_pct: Mapped[float | None] = mapped_column(Float)
    annualized_return_pct: Mapped[float | None] = mapped_column(Float)
    annualized_volatility_pct: Mapped[float | None] = mapped_column(Float)
    sharpe_ratio: Mapped[float | None] = mapped_column(Float)
    sortino_ratio: Mapped[float | None] = mapped_column(Float)
    calmar_ratio: Mapped[float | None] = mapped_column(Float)
    max_drawdown_pct: Mapped[float | None] = mapped_column(Float)
    max_drawdown_duration_days: Mapped[float | None] = mapped_column(Float)
    avg_drawdown_pct: Mapped[float | None] = mapped_column(Float)
    total_trades: Mapped[int | None] = mapped_column(Integer)
    win_rate_pct: Mapped[float | None] = mapped_column(Float)
    profit_factor: Mapped[float | None] = mapped_column(Float)
    expectancy_pct: Mapped[float | None] = mapped_column(Float)
    avg_trade_pct: Mapped[float | None] = mapped_column(Float)
    best_trade_pct: Mapped[float | None] = mapped_column(Float)
    worst_trade_pct: Mapped[float | None] = mapped_column(Float)
    avg_win: Mapped[float | None] = mapped_column(Float)
    avg_loss: Mapped[float | None] = mapped_column(Float)
    largest_win: Mapped[float | None] = mapped_column(Float)
    largest_loss: Mapped[float | None] = mapped_column(Float)
    avg_trade_duration_days: Mapped[float | None] = mapped_column(Float)
    avg_trade_duration: Mapped[str | None] = mapped_column(String(64))
    trades_per_month: Mapped[float | None] = mapped_column(Float)
    exposure_pct: Mapped[float | None] = mapped_column(Float)
    total_fees: Mapped[float | None] = mapped_column(Float)
    stop_and_target_same_bar: Mapped[int | None] = mapped_column(Integer)


# "best by score for a run and ticker" reads this index in score order.
Index(
    "ix_sweep_results_run_ticker_score",
    SweepResultRow.sweep_run_id,
    SweepResultRow.ticker,
    SweepResultRow.score.desc(),
)


class BacktestRun(Base):
    __tablename__ = "backtest_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    ticker: Mapped[str | None] = mapped_column(String(40))
    strategy: Mapped[str | None] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]
    spec_id: Mapped[str | None] = mapped_column(String(64), index=True)
    metrics: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BacktestTrade(Base):
    """One closed round trip: the fields of ``tradesweep.engine.enums.trade_dt`` plus the
    entry and exit timestamps and its position ``seq`` in the run."""

    __tablename__ = "backtest_trades"
    __table_args__ = (UniqueConstraint("backtest_run_id", "seq"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    backtest_run_id: Mapped[str] = mapped_column(ForeignKey("backtest_runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    entry_time: Mapped[datetime]
    exit_time: Mapped[datetime]
    entry_idx: Mapped[int] = mapped_column(Integer)
    exit_idx: Mapped[int] = mapped_column(Integer)
    side: Mapped[int] = mapped_column(Integer)
    units: Mapped[float] = mapped_column(Float)
    entry_price: Mapped[float] = mapped_column(Float)
    exit_price: Mapped[float] = mapped_column(Float)
    pnl: Mapped[float] = mapped_column(Float)
    pnl_pct: Mapped[float] = mapped_column(Float)
    fees: Mapped[float] = mapped_column(Float)
    bars_held: Mapped[int] = mapped_column(Integer)
    exit_reason: Mapped[int] = mapped_column(Integer)  # an ExitReason value


class WorkerRecord(Base):
    """A running worker process: ``tradesweep.jobs`` registers it, renews ``heartbeat_at``
    while it lives and deletes it on a clean exit. ``/health`` counts the fresh ones."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # also the lease owner
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class DeliveryStatus(str, Enum):  # noqa: UP042
    """Where a webhook delivery is. Terminal: DELIVERED, FAILED (retries spent), GONE (410)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    GONE = "gone"


class WebhookDelivery(Base):
    """The outbox: one row per webhook a job's end owes its receiver, written in the same
    transaction as the job's final state. ``id`` is the Standard Webhooks ``webhook-id``,
    the same on every retry; ``payload`` is the exact JSON body signed and sent."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[DeliveryStatus] = mapped_column(
        _str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One try at delivering a webhook: what came back (status code or error), never the body."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)


RESULT_FIELDS: tuple[str, ...] = (
    "id",
    "sweep_run_id",
    "ticker",
    "strategy",
    "grid_index",
    "params",
    "rank",
    "below_min_trades",
)
"""The columns of ``sweep_results`` that are not metrics; every other column is a stored row of
the metric table (``score`` and :data:`METRIC_COLUMNS`), which the tests check both ways."""

METRIC_COLUMNS: tuple[str, ...] = tuple(
    m.key for m in METRICS if m.stored and m.source == "backtest"
)
"""The columns of ``sweep_results`` that hold the metrics of ``compute_metrics``: the stored
``backtest`` rows of :data:`tradesweep.metrics.table.METRICS`, in table order."""

TRADE_FIELDS: tuple[str, ...] = (
    "entry_idx",
    "exit_idx",
    "side",
    "units",
    "entry_price",
    "exit_price",
    "pnl",
    "pnl_pct",
    "fees",
    "bars_held",
    "exit_reason",
)
"""The ``trade_dt`` fields stored per trade; equal to ``trade_dt.names`` (tested)."""
