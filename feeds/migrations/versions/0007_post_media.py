"""A post's image (columns of posts) and its enclosures (post_enclosures, in order).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

IMAGE_COLUMNS = ("image_url", "image_alt", "image_width", "image_height")


def upgrade() -> None:
    # batch: SQLite adds columns in place, and the table's constraints stay as they are.
    with op.batch_alter_table("posts") as posts:
        posts.add_column(sa.Column("image_url", sa.String(2000), nullable=True))
        posts.add_column(sa.Column("image_alt", sa.String(1000), nullable=True))
        posts.add_column(sa.Column("image_width", sa.Integer(), nullable=True))
        posts.add_column(sa.Column("image_height", sa.Integer(), nullable=True))
    op.create_table(
        "post_enclosures",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name="fk_post_enclosures_post_id_posts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name="pk_post_enclosures"),
    )


def downgrade() -> None:
    op.drop_table("post_enclosures")
    with op.batch_alter_table("posts") as posts:
        for column in reversed(IMAGE_COLUMNS):
            posts.drop_column(column)
