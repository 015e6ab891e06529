"""Who follows each feed: aggregators' reported counts, and readers as daily keyed hashes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriber_reports",
        sa.Column("feed", sa.String(500), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("service_feed_id", sa.String(100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("subscribers", sa.Integer(), nullable=False),
        sa.Column("reported", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "feed", "service", "service_feed_id", "day", name="pk_subscriber_reports"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "feed_readers",
        sa.Column("feed", sa.String(500), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reader", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("feed", "day", "reader", name="pk_feed_readers"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("feed_readers")
    op.drop_table("subscriber_reports")
