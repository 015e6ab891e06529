"""Alembic migrations: they build the models' schema, and an upgrade keeps every post."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, text

from feeds import create_app
from feeds.migrations import SCHEMA_HEAD
from feeds.settings import Settings
from feeds.store import Store, StoreUnavailable
from feeds.store.db import head_revision
from feeds.store.models import Author, Base, Category, Post, ScopeEntry, post_categories
from feeds.store.queries import post_query
from feeds.store.taxonomy import create_category, delete_category
from feeds.store.validation import AuthorInput, PostInput, TermInput
from feeds.store.writes import create_post, delete_post
from feeds.web.app_state import app_state
from tests.conftest import ADMIN_TOKEN, REPO, make_settings, parse_feed


# SQLite cannot reflect an index on an expression (ix_posts_listing), so there Alembic skips
# it and says so; the PostgreSQL run compares it, and tests/test_api_paging.py sees it used.
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index",
    "ignore:autogenerate skipping metadata-specified expression-based index",
)
def test_migrations_build_exactly_the_models_schema(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrading_a_database_with_data_keeps_every_post_id_and_date(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'old.db'}")
    store = Store(settings.database_url)
    store.create_schema("0001")
    published = datetime(2023, 9, 22, 9, 0, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO categories (id, slug, name) VALUES (1, 'tech', 'Tech');")
        )
        connection.execute(
            text(
                "INSERT INTO posts (id, entry_id, slug, title, summary, content_html, language,"
                " status, published, updated, created) VALUES (7, 'urn:uuid:1234', 'old-post',"
                " 'Old “post” & co', 'S', '<p>C</p>', 'en', 'published', :p, :p, :p)"
            ),
            {"p": "2023-09-22 09:00:00.000000"},
        )
        connection.execute(text("INSERT INTO post_categories VALUES (7, 1)"))
        for scope in ("site", "lang:en", "cat:1", "cat:1/lang:en"):
            connection.execute(
                text("INSERT INTO scope_entries VALUES (:s, :p, 7)"),
                {"s": scope, "p": "2023-09-22 09:00:00.000000"},
            )
    try:
        create_app(settings)
    except StoreUnavailable as refused:
        assert "run `feeds db upgrade`" in str(refused)
    else:
        raise AssertionError("the app started on a schema behind the code")

    store.create_schema()
    assert store.schema_revision() == head_revision()
    (entry,) = parse_feed(create_app(settings).test_client().get("/feeds/all.atom").data).entries
    assert entry.id == "urn:uuid:1234"
    assert entry.title == "Old “post” & co"
    assert datetime.fromisoformat(entry.published) == published
    assert datetime.fromisoformat(entry.updated) == published
    assert [tag.term for tag in entry.tags] == ["tech"]


def test_upgrading_to_tag_and_author_feeds_indexes_them_and_slugs_every_author(
    tmp_path: Path,
) -> None:
    """0006 gives each author a slug and writes the index rows of tags' and authors' scopes."""
    settings = make_settings(f"sqlite:///{tmp_path / 'old.db'}")
    store = Store(settings.database_url)
    store.create_schema("0005")
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO posts (id, entry_id, slug, title, summary, content_html, language,"
                " status, published, updated, created) VALUES (7, 'urn:uuid:1234', 'old-post',"
                " 'Old', 'S', '<p>C</p>', 'en', 'published', :p, :p, :p)"
            ),
            {"p": "2023-09-22 09:00:00.000000"},
        )
        connection.execute(text("INSERT INTO tags (id, slug, name) VALUES (3, 'keys', 'Keys')"))
        connection.execute(text("INSERT INTO post_tags VALUES (7, 3)"))
        for author_id, name in ((5, "Zoë Núñez"), (6, "zoë núñez")):  # one slug, twice
            connection.execute(
                text("INSERT INTO authors (id, name) VALUES (:id, :name)"),
                {"id": author_id, "name": name},
            )
        connection.execute(text("INSERT INTO post_authors VALUES (7, 6)"))
        connection.execute(
            text("INSERT INTO scope_revisions VALUES ('store', 4, :p)"),
            {"p": "2023-09-22 09:00:00.000000"},
        )
        for scope in ("site", "lang:en"):
            connection.execute(
                text("INSERT INTO scope_entries VALUES (:s, :p, 7)"),
                {"s": scope, "p": "2023-09-22 09:00:00.000000"},
            )
    store.create_schema()
    with store.session() as session:
        slugs = {name: slug for name, slug in session.execute(select(Author.name, Author.slug))}
    assert slugs == {"Zoë Núñez": "zoe-nunez", "zoë núñez": "zoe-nunez-2"}
    client = create_app(settings).test_client()
    for path in ("/feeds/tag/keys.atom", "/en/feeds/author/zoe-nunez-2.rss"):
        (entry,) = parse_feed(client.get(path).data).entries
        assert entry.id == "urn:uuid:1234"
    assert parse_feed(client.get("/feeds/author/zoe-nunez.atom").data).entries == []
    store.dispose()


def test_schema_head_is_alembics_head() -> None:
    assert head_revision() == SCHEMA_HEAD


@pytest.mark.process
def test_serving_imports_no_alembic(store: Store, settings: Settings) -> None:
    # Each worker checks the schema with a plain query; Alembic would cost it ~11 MiB.
    program = (
        "import sys; from feeds import create_app; from feeds.settings import Settings; "
        f"create_app(Settings.load().replace(database_url={settings.database_url!r})); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))"
    )
    env = {**os.environ, "FEEDS_CONFIG": str(REPO / "config.toml")}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- ids are never reused ----------------------------------------------------------------


def api_client(settings: Settings) -> FlaskClient:
    """A client of a new app (a new engine: a restart), sending the admin token."""
    client = create_app(settings.replace(admin_token=ADMIN_TOKEN)).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {ADMIN_TOKEN}"
    return client


def created_id(client: FlaskClient, path: str, document: dict[str, object]) -> int:
    answer = client.post(path, json=document)
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["id"])


def restarted(client: FlaskClient, settings: Settings) -> FlaskClient:
    app_state(client.application).store.dispose()
    return api_client(settings)


def test_a_deleted_posts_id_is_never_given_to_another_post(
    store: Store, settings: Settings
) -> None:
    client = api_client(settings)
    post = {"title": "A post", "language": "en"}
    created_id(client, "/api/posts", {**post, "slug": "first"})
    newest = created_id(client, "/api/posts", {**post, "slug": "second"})
    assert client.delete(f"/api/posts/{newest}").status_code == 204
    after = created_id(client, "/api/posts", {**post, "slug": "third"})
    assert after > newest
    assert client.get(f"/api/posts/{newest}").status_code == 404  # the old URL names nothing
    assert client.delete(f"/api/posts/{after}").status_code == 204
    client = restarted(client, settings)
    assert created_id(client, "/api/posts", {**post, "slug": "fourth"}) > after


def test_a_deleted_categorys_id_is_never_given_to_another(store: Store, settings: Settings) -> None:
    # Category ids name feed scopes (cat:<id>), whose tombstones outlive the category.
    client = api_client(settings)

    def category_id(slug: str) -> int:
        assert client.post("/api/categories", json={"slug": slug, "name": slug}).status_code == 201
        with store.session() as session:
            return session.scalars(select(Category.id).where(Category.slug == slug)).one()

    category_id("first")
    newest = category_id("second")
    assert client.delete("/api/categories/second").status_code == 204
    after = category_id("third")
    assert after > newest
    assert client.delete("/api/categories/third").status_code == 204
    client = restarted(client, settings)
    assert category_id("fourth") > after


def test_a_deleted_authors_id_is_never_given_to_another(store: Store, settings: Settings) -> None:
    # The API deletes no author; whatever does must not hand /api/authors/<id> to another.
    client = api_client(settings)
    created_id(client, "/api/authors", {"name": "First"})
    newest = created_id(client, "/api/authors", {"name": "Second"})
    with store.writing() as session, session.begin():
        session.execute(delete(Author).where(Author.id == newest))
    after = created_id(client, "/api/authors", {"name": "Third"})
    assert after > newest
    assert client.get(f"/api/authors/{newest}").status_code == 404
    with store.writing() as session, session.begin():
        session.execute(delete(Author).where(Author.id == after))
    client = restarted(client, settings)
    assert created_id(client, "/api/authors", {"name": "Fourth"}) > after


def test_upgrading_to_ids_never_reused_keeps_every_row_and_foreign_key(
    tmp_path: Path,
) -> None:
    """0003 recreates posts, categories and authors on SQLite: every row stays as it was, the
    foreign keys still hold and cascade, and no id is handed out again, not even a deleted
    category's (its feed scopes remember it)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'old.db'}")
    store = Store(settings.database_url)
    store.create_schema("0002")
    # Today's write path looks for outbox targets (0005), writes a post's media (0007) and
    # seals archives (0008): their tables and columns, made by hand.
    for later_table in ("outbox_changes", "outbox_targets", "post_enclosures", "archive_bounds"):
        Base.metadata.tables[later_table].create(store.engine)
    with store.engine.begin() as connection:
        for column in ("image_url", "image_alt", "image_width", "image_height"):
            column_type = Post.__table__.c[column].type.compile(connection.dialect)
            connection.exec_driver_sql(f"ALTER TABLE posts ADD COLUMN {column} {column_type}")
        connection.exec_driver_sql("ALTER TABLE authors ADD COLUMN slug VARCHAR(200)")  # 0007
    with store.writing() as session, session.begin():
        for number in range(1, 6):
            create_post(session, settings, PostInput(
                title=f"Post {number}", slug=f"post-{number}", language=("en", "fr")[number % 2],
                published=datetime(2024, 1, number, tzinfo=UTC),
                categories=[TermInput("tech"), TermInput(f"only-{number}")],
                tags=[TermInput("tag")], authors=[AuthorInput(f"Author {number % 2}")],
            ))  # fmt: skip
    with store.writing() as session, session.begin():
        post_2 = session.scalars(post_query().where(Post.slug == "post-2")).one()
        delete_post(session, settings, post_2)
        newest_post = session.scalar(select(func.max(Post.id)))
        # The newest category, deleted: only its feed scopes (cat:<id>) remember its id.
        only_5, tech = (
            session.scalars(select(Category).where(Category.slug == slug)).one()
            for slug in ("only-5", "tech")
        )
        newest_category = only_5.id
        assert newest_category == session.scalar(select(func.max(Category.id)))
        delete_category(session, settings, only_5, move_to=tech)
    later_tables = {"outbox_failures", "subscriber_reports", "feed_readers"}  # 0005, 0009
    tables = sorted(set(Base.metadata.tables) - later_tables)
    before = _rows(store, tables)

    # Up to the last migration before the outbox's (its table was made by hand above).
    store.create_schema("0004")
    assert store.schema_revision() == "0004"
    assert _rows(store, tables) == before
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        references = {
            (table, row[3], row[2], row[6])  # table, column, the table it points at, on delete
            for table in tables
            for row in connection.exec_driver_sql(f"PRAGMA foreign_key_list({table})")
        }
    assert references == {
        ("post_authors", "author_id", "authors", "CASCADE"),
        ("post_authors", "post_id", "posts", "CASCADE"),
        ("post_categories", "category_id", "categories", "CASCADE"),
        ("post_categories", "post_id", "posts", "CASCADE"),
        ("post_enclosures", "post_id", "posts", "CASCADE"),
        ("post_tags", "post_id", "posts", "CASCADE"),
        ("post_tags", "tag_id", "tags", "CASCADE"),
        ("scope_entries", "post_id", "posts", "CASCADE"),
    }
    with store.writing() as session, session.begin():
        session.execute(delete(Post).where(Post.slug == "post-1"))  # cascades as before
        post = create_post(session, settings, PostInput(title="New", slug="new", language="en"))
        category = create_category(session, "new", "New")
    with store.session() as session:
        assert session.scalars(select(ScopeEntry).where(ScopeEntry.post_id == 1)).all() == []
        links = select(post_categories).where(post_categories.c.post_id == 1)
        assert session.execute(links).all() == []
    assert post.id > newest_post
    assert category.id > newest_category
    store.dispose()


def _rows(store: Store, tables: list[str]) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order."""
    with store.engine.connect() as connection:
        return {
            table: sorted(connection.exec_driver_sql(f"SELECT * FROM {table}").all(), key=repr)
            for table in tables
        }
