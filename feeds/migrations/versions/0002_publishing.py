"""Publishing: external ids, tags, tombstones, scope revisions, store facts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as posts:
        posts.add_column(sa.Column("external_id", sa.String(200), nullable=True))
        posts.create_unique_constraint("uq_posts_external_id", ["external_id"])
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("slug", name="uq_tags_slug"),
    )
    op.create_table(
        "post_tags",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE",
                                name="fk_post_tags_post_id_posts"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE",
                                name="fk_post_tags_tag_id_tags"),
        sa.PrimaryKeyConstraint("post_id", "tag_id", name="pk_post_tags"),
    )  # fmt: skip
    op.create_index("ix_post_tags_tag_id", "post_tags", ["tag_id"])
    op.create_table(
        "deleted_entries",
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("deleted", UTCDateTime(), nullable=False),
        sa.Column("entry_id", sa.String(2000), nullable=False),
        sa.Column("link", sa.String(2000), nullable=False),
        sa.PrimaryKeyConstraint("scope", "deleted", "entry_id", name="pk_deleted_entries"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_deleted_entries_entry_id", "deleted_entries", ["entry_id"])
    op.create_table(
        "scope_revisions",
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name="pk_scope_revisions"),
    )
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_store_meta"),
    )


def downgrade() -> None:
    for table in ("store_meta", "scope_revisions", "deleted_entries", "post_tags", "tags"):
        op.drop_table(table)
    with op.batch_alter_table("posts") as posts:
        posts.drop_constraint("uq_posts_external_id", type_="unique")
        posts.drop_column("external_id")
