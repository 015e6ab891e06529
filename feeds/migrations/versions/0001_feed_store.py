"""The feed store: posts, categories, authors, and the scope index.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("uri", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_authors"),
        sa.UniqueConstraint("name", name="uq_authors_name"),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_categories"),
        sa.UniqueConstraint("slug", name="uq_categories_slug"),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(2000), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("title", sa.String(1000), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content_html", sa.Text(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("status", sa.Enum("draft", "published", name="poststatus",
                                    native_enum=False, length=16), nullable=False),
        sa.Column("published", UTCDateTime(), nullable=True),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_posts"),
        sa.UniqueConstraint("entry_id", name="uq_posts_entry_id"),
        sa.UniqueConstraint("language", "slug", name="uq_posts_language_slug"),
    )  # fmt: skip
    for name, column, target in (
        ("post_authors", "author_id", "authors"),
        ("post_categories", "category_id", "categories"),
    ):
        op.create_table(
            name,
            sa.Column("post_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE",
                                    name=f"fk_{name}_post_id_posts"),
            sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete="CASCADE",
                                    name=f"fk_{name}_{column}_{target}"),
            sa.PrimaryKeyConstraint("post_id", column, name=f"pk_{name}"),
        )  # fmt: skip
        op.create_index(f"ix_{name}_{column}", name, [column])
    op.create_table(
        "scope_entries",
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("published", UTCDateTime(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE",
                                name="fk_scope_entries_post_id_posts"),
        sa.PrimaryKeyConstraint("scope", "published", "post_id", name="pk_scope_entries"),
        sqlite_with_rowid=False,
    )  # fmt: skip
    op.create_index("ix_scope_entries_post_id", "scope_entries", ["post_id"])


def downgrade() -> None:
    for table in ("scope_entries", "post_categories", "post_authors", "posts", "categories",
                  "authors"):  # fmt: skip
        op.drop_table(table)
