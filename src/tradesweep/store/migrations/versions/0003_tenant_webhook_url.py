"""Tenants' default webhook URL: used for a job submitted without a ``webhook_url``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Hand-reviewed from ``alembic revision --autogenerate`` against a SQLite database at 0002.
``batch_alter_table`` so the downgrade also runs on SQLite (which cannot drop a column in
place on old versions).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("webhook_url")
