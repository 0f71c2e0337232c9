"""Initial schema: tenants, API keys, jobs and their events, sweep and backtest results.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Hand-reviewed from ``alembic revision --autogenerate`` against an empty SQLite database.
Revisions never import the models: they describe the schema as it was when written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # timestamptz on PostgreSQL; naive UTC text on SQLite
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

JOB_TYPE = sa.Enum("backtest", "sweep", "walkforward", name="jobtype", native_enum=False, length=16)
JOB_STATUS = sa.Enum(
    "queued",
    "running",
    "completed",
    "failed",
    "cancelled",
    name="jobstatus",
    native_enum=False,
    length=16,
)

# One column per key of tradesweep.metrics.KEYS (as of this revision), all nullable.
SWEEP_METRIC_COLUMNS: tuple[tuple[str, sa.types.TypeEngine], ...] = (
    ("start", UTC_TIME),
    ("end", UTC_TIME),
    ("bars", sa.Integer()),
    ("periods_per_year", sa.Float()),
    ("final_equity", sa.Float()),
    ("total_return_pct", sa.Float()),
    ("buy_and_hold_return_pct", sa.Float()),
    ("annualized_return_pct", sa.Float()),
    ("annualized_volatility_pct", sa.Float()),
    ("sharpe_ratio", sa.Float()),
    ("sortino_ratio", sa.Float()),
    ("calmar_ratio", sa.Float()),
    ("max_drawdown_pct", sa.Float()),
    ("max_drawdown_duration_days", sa.Float()),
    ("avg_drawdown_pct", sa.Float()),
    ("total_trades", sa.Integer()),
    ("win_rate_pct", sa.Float()),
    ("profit_factor", sa.Float()),
    ("expectancy_pct", sa.Float()),
    ("avg_trade_pct", sa.Float()),
    ("best_trade_pct", sa.Float()),
    ("worst_trade_pct", sa.Float()),
    ("avg_win", sa.Float()),
    ("avg_loss", sa.Float()),
    ("largest_win", sa.Float()),
    ("largest_loss", sa.Float()),
    ("avg_trade_duration_days", sa.Float()),
    ("avg_trade_duration", sa.String(64)),
    ("trades_per_month", sa.Float()),
    ("exposure_pct", sa.Float()),
    ("total_fees", sa.Float()),
    ("stop_and_target_same_bar", sa.Integer()),
)


def _fk(column: str, target: str, table: str) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("webhook_secret", sa.String(128), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),  # sha256 hex of the full key
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        _fk("tenant_id", "tenants.id", "api_keys"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("type", JOB_TYPE, nullable=False),
        sa.Column("status", JOB_STATUS, nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("metrics", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", UTC_TIME, nullable=True),
        sa.Column("run_after", UTC_TIME, nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("webhook_url", sa.String(2048), nullable=True),
        sa.Column("ticker", sa.String(40), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("completed_at", UTC_TIME, nullable=True),
        _fk("tenant_id", "tenants.id", "jobs"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name="uq_jobs_tenant_id_idempotency_key"
        ),
    )
    op.create_index("ix_jobs_status_run_after", "jobs", ["status", "run_after"])
    op.create_index("ix_jobs_tenant_id_created_at_id", "jobs", ["tenant_id", "created_at", "id"])
    op.create_index("ix_jobs_ticker", "jobs", ["ticker"])

    op.create_table(
        "job_events",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _fk("job_id", "jobs.id", "job_events"),
        sa.PrimaryKeyConstraint("id", name="pk_job_events"),
        sa.UniqueConstraint("job_id", "seq", name="uq_job_events_job_id_seq"),
    )

    op.create_table(
        "sweep_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("ticker", sa.String(40), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("spec_id", sa.String(64), nullable=True),
        sa.Column("grid_combinations", sa.Integer(), nullable=False),
        sa.Column("valid_combinations", sa.Integer(), nullable=False),
        sa.Column("evaluated", sa.Integer(), nullable=False),
        sa.Column("diagnostics", JSON, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _fk("job_id", "jobs.id", "sweep_runs"),
        _fk("tenant_id", "tenants.id", "sweep_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_sweep_runs"),
    )
    op.create_index("ix_sweep_runs_job_id", "sweep_runs", ["job_id"])
    op.create_index("ix_sweep_runs_spec_id", "sweep_runs", ["spec_id"])
    op.create_index("ix_sweep_runs_tenant_id", "sweep_runs", ["tenant_id"])

    op.create_table(
        "sweep_results",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("sweep_run_id", sa.String(36), nullable=False),
        sa.Column("ticker", sa.String(40), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("grid_index", sa.Integer(), nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("below_min_trades", sa.Boolean(), nullable=False),
        *(sa.Column(name, type_, nullable=True) for name, type_ in SWEEP_METRIC_COLUMNS),
        _fk("sweep_run_id", "sweep_runs.id", "sweep_results"),
        sa.PrimaryKeyConstraint("id", name="pk_sweep_results"),
    )
    op.create_index(
        "ix_sweep_results_run_ticker_score",
        "sweep_results",
        ["sweep_run_id", "ticker", sa.column("score").desc()],
    )

    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("ticker", sa.String(40), nullable=True),
        sa.Column("strategy", sa.String(64), nullable=True),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("spec_id", sa.String(64), nullable=True),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _fk("job_id", "jobs.id", "backtest_runs"),
        _fk("tenant_id", "tenants.id", "backtest_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_backtest_runs"),
    )
    op.create_index("ix_backtest_runs_job_id", "backtest_runs", ["job_id"])
    op.create_index("ix_backtest_runs_spec_id", "backtest_runs", ["spec_id"])
    op.create_index("ix_backtest_runs_tenant_id", "backtest_runs", ["tenant_id"])

    op.create_table(
        "backtest_trades",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("backtest_run_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_time", UTC_TIME, nullable=False),
        sa.Column("exit_time", UTC_TIME, nullable=False),
        sa.Column("entry_idx", sa.Integer(), nullable=False),
        sa.Column("exit_idx", sa.Integer(), nullable=False),
        sa.Column("side", sa.Integer(), nullable=False),
        sa.Column("units", sa.Float(), nullable=False),
        sa.Column("entry_price", sa.Float(), nullable=False),
        sa.Column("exit_price", sa.Float(), nullable=False),
        sa.Column("pnl", sa.Float(), nullable=False),
        sa.Column("pnl_pct", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("bars_held", sa.Integer(), nullable=False),
        sa.Column("exit_reason", sa.Integer(), nullable=False),
        _fk("backtest_run_id", "backtest_runs.id", "backtest_trades"),
        sa.PrimaryKeyConstraint("id", name="pk_backtest_trades"),
        sa.UniqueConstraint(
            "backtest_run_id", "seq", name="uq_backtest_trades_backtest_run_id_seq"
        ),
    )


def downgrade() -> None:
    for table in (
        "backtest_trades",
        "backtest_runs",
        "sweep_results",
        "sweep_runs",
        "job_events",
        "jobs",
        "api_keys",
        "tenants",
    ):
        op.drop_table(table)  # drops its indexes too
