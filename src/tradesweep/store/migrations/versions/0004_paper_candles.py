"""Paper trading candles: one row per closed (symbol, timeframe, time) candle.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Hand-reviewed from ``alembic revision --autogenerate`` against a SQLite database at 0003.
Revisions never import the models: they describe the schema as it was when written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # timestamptz on PostgreSQL; naive UTC text on SQLite
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "paper_candles",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("timeframe", sa.String(16), nullable=False),
        sa.Column("time", UTC_TIME, nullable=False),
        sa.Column("open", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("close", sa.Float(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_candles")),
        sa.UniqueConstraint(
            "symbol", "timeframe", "time", name=op.f("uq_paper_candles_symbol_timeframe_time")
        ),
    )


def downgrade() -> None:
    op.drop_table("paper_candles")
