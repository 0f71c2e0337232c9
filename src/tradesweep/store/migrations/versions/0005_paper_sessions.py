"""Paper trading sessions and what they did: signals, orders, trades, positions, snapshots.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Written from the models at this revision and checked by ``tests/store/test_migrations.py``
(autogenerate finds no difference). Revisions never import the models: they describe the
schema as it was when written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # timestamptz on PostgreSQL; naive UTC text on SQLite
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SESSION_STATUS = sa.Enum(
    "queued",
    "running",
    "stopped",
    "completed",
    "failed",
    name="papersessionstatus",
    native_enum=False,
    length=16,
)
SOURCE = sa.Enum("replay", "exchange", name="papersource", native_enum=False, length=16)
ORDER_STATUS = sa.Enum(
    "filled", "rejected", "cancelled", name="paperorderstatus", native_enum=False, length=16
)

CHILD_TABLES = (
    "paper_snapshots",
    "paper_positions",
    "paper_trades",
    "paper_orders",
    "paper_signals",
)


def _fk(column: str, target: str, table: str) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete="CASCADE")


def _session_column(table: str) -> tuple[sa.Column[str], sa.ForeignKeyConstraint]:
    return (
        sa.Column("session_id", sa.String(36), nullable=False),
        _fk("session_id", "paper_sessions.id", table),
    )


def upgrade() -> None:
    op.create_table(
        "paper_sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("status", SESSION_STATUS, nullable=False),
        sa.Column("source", SOURCE, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("stopped_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_paper_sessions"),
        _fk("tenant_id", "tenants.id", "paper_sessions"),
    )
    op.create_index(
        "ix_paper_sessions_tenant_id_created_at_id",
        "paper_sessions",
        ["tenant_id", "created_at", "id"],
    )

    op.create_table(
        "paper_signals",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        *_session_column("paper_signals"),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("time", UTC_TIME, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paper_signals"),
    )
    op.create_index("ix_paper_signals_session_id_time", "paper_signals", ["session_id", "time"])

    op.create_table(
        "paper_orders",
        sa.Column("id", sa.String(36), nullable=False),
        *_session_column("paper_orders"),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("time", UTC_TIME, nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("size", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("status", ORDER_STATUS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paper_orders"),
    )
    op.create_index(
        "ix_paper_orders_session_id_time_id", "paper_orders", ["session_id", "time", "id"]
    )

    op.create_table(
        "paper_trades",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        *_session_column("paper_trades"),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("entry_time", UTC_TIME, nullable=False),
        sa.Column("exit_time", UTC_TIME, nullable=False),
        sa.Column("entry_price", sa.Float(), nullable=False),
        sa.Column("exit_price", sa.Float(), nullable=False),
        sa.Column("size", sa.Float(), nullable=False),
        sa.Column("pnl", sa.Float(), nullable=False),
        sa.Column("pnl_pct", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("exit_reason", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paper_trades"),
    )
    op.create_index(
        "ix_paper_trades_session_id_exit_time_id",
        "paper_trades",
        ["session_id", "exit_time", "id"],
    )

    op.create_table(
        "paper_positions",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        *_session_column("paper_positions"),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("size", sa.Float(), nullable=False),
        sa.Column("average_price", sa.Float(), nullable=False),
        sa.Column("realised_pnl", sa.Float(), nullable=False),
        sa.Column("unrealised_pnl", sa.Float(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paper_positions"),
        sa.UniqueConstraint("session_id", "leg", name="uq_paper_positions_session_id_leg"),
    )

    op.create_table(
        "paper_snapshots",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        *_session_column("paper_snapshots"),
        sa.Column("time", UTC_TIME, nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("drawdown", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paper_snapshots"),
        sa.UniqueConstraint("session_id", "time", name="uq_paper_snapshots_session_id_time"),
    )


def downgrade() -> None:
    for table in CHILD_TABLES:
        op.drop_table(table)  # their indexes go with them
    op.drop_table("paper_sessions")
