"""The outbox: the feed scopes each write changed, and each sender's progress through them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("recorded", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_changes"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "outbox_targets",
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("delivered_id", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("leased_until", UTCDateTime(), nullable=True),
        sa.Column("leased_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_outbox_targets"),
    )
    op.create_table(
        "outbox_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_failures"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_failures_target", "outbox_failures", ["target"])


def downgrade() -> None:
    op.drop_index("ix_outbox_failures_target", table_name="outbox_failures")
    op.drop_table("outbox_failures")
    op.drop_table("outbox_targets")
    op.drop_table("outbox_changes")
