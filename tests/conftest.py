"""Shared fixtures: settings on a temporary database, stores with and without the demo blog."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import jsonfeed
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import Engine, create_engine

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import PostStatus
from feeds.store.validation import AuthorInput, PostInput, TermInput
from feeds.store.writes import create_post
from feeds.tools.demo import demo_posts, load_demo
from feeds.web.app_state import app_state

REPO = Path(__file__).resolve().parent.parent
BASE_URL = "http://feeds.example"
DEMO_POSTS = 400
ADMIN_TOKEN = "s3cret-admin-token"
# Third-party code the tests run (tests/vendor/README.md), not tests.
collect_ignore = ["vendor"]


def make_settings(database_url: str, **changes: object) -> Settings:
    """The repository's config.toml, on ``database_url``, served at BASE_URL."""
    settings = Settings.load(REPO / "config.toml", environ={})
    # Tests write and read at once: every request re-reads the revisions, and the feeds page
    # counts again after every write (test_pages.py tests the wait). Archives of one
    # post: the first page of the site and category feeds (RFC 5005 subscription documents,
    # which hold every post after their newest archive) then holds items_per_feed, as every
    # other feed's; tests/test_archives.py sets its own sizes.
    values = {
        "revision_check_seconds": 0,
        "feeds_page_refresh_seconds": 0,
        "archive_size": 1,
        **changes,
    }
    return settings.replace(database_url=database_url, base_url=BASE_URL, **values)


def client_of_a_vanished_database(directory: Path) -> FlaskClient:
    """A test client of an app whose SQLite database (made in ``directory``) was then deleted,
    with no connection left open: every query fails. SQLite in both test passes, so that
    the behaviour does not depend on the database kind."""
    folder = directory / "db"
    folder.mkdir()
    settings = make_settings(f"sqlite:///{folder / 'feeds.db'}")
    Store(settings.database_url).create_schema()
    client = create_app(settings).test_client()
    shutil.rmtree(folder)
    app_state(client.application).store.dispose()
    return client


@contextmanager
def _processes_only_when_marked(item: pytest.Item) -> Iterator[None]:
    """Fail a test that starts a process (subprocess, a server, a browser) without the
    ``process`` marker, so that ``-m "not process"`` stays the quick, in-process run."""
    if item.get_closest_marker("process") is not None:
        yield
        return
    started = subprocess.Popen

    class Refused(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, args: object, *more: object, **options: object) -> None:
            raise AssertionError(
                f"{item.nodeid} starts a process ({args!r}): mark it @pytest.mark.process"
            )

    subprocess.Popen = Refused  # type: ignore[misc]
    try:
        yield
    finally:
        subprocess.Popen = started  # type: ignore[misc]


_running: pytest.Item | None = None  # the test being set up or run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    global _running
    _running = item
    _backend_independent_only_when_true(item)
    with _processes_only_when_marked(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _processes_only_when_marked(item):
        return (yield)


def _backend_independent_only_when_true(item: pytest.Item, uses_database: bool = False) -> None:
    """Fail a test marked ``backend_independent`` (.ci/run runs it on SQLite only) that uses
    the suite's database: ``database_url`` (``uses_database``), the demo store, or PostgreSQL."""
    if item.get_closest_marker("backend_independent") is None:
        return
    if (
        uses_database
        or item.get_closest_marker("postgres") is not None
        or "demo_settings" in item.fixturenames
    ):
        pytest.fail(f"{item.nodeid} uses the suite's database: not backend_independent")


# Set for .ci/run's PostgreSQL pass (see .ci/postgres): the suite on PostgreSQL.
POSTGRES_URL = os.environ.get("FEEDS_TEST_DATABASE_URL")
_postgres_admin: Engine | None = None
_postgres_schemas: list[str] = []


def database_url(tmp_path: Path, name: str = "feeds") -> str:
    """A fresh, empty database: a SQLite file, or a new schema of the test PostgreSQL."""
    global _postgres_admin
    if _running is not None:
        _backend_independent_only_when_true(_running, uses_database=True)
    if not POSTGRES_URL:
        return f"sqlite:///{tmp_path / name}.db"
    if _postgres_admin is None:
        _postgres_admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with _postgres_admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    _postgres_schemas.append(schema)
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def postgres_url() -> str:
    """The test PostgreSQL's URL; a test that needs PostgreSQL fails (not skips) without it."""
    if not POSTGRES_URL:
        pytest.fail('FEEDS_TEST_DATABASE_URL is not set: run `eval "$(bash .ci/postgres)"`')
    return POSTGRES_URL


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    yield
    if _postgres_admin is not None:
        with _postgres_admin.connect() as connection:
            for schema in _postgres_schemas:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        _postgres_admin.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(database_url(tmp_path))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """An empty store with its schema."""
    store = Store(settings.database_url)
    store.create_schema()
    yield store
    store.dispose()


@pytest.fixture
def app(settings: Settings, store: Store) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """Settings with an admin token, so that the admin API answers."""
    return settings.replace(admin_token=ADMIN_TOKEN)


@pytest.fixture
def api(api_settings: Settings, store: Store) -> FlaskClient:
    """A client of an app with an admin token, sending the token on every request."""
    client = create_app(api_settings).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {ADMIN_TOKEN}"
    return client


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings on a database holding the demo blog; shared, so tests must not write to it."""
    settings = make_settings(database_url(tmp_path_factory.mktemp("demo"), "demo"))
    store = Store(settings.database_url)
    store.create_schema()
    with store.session() as session:
        load_demo(session, settings, demo_posts(settings, DEMO_POSTS))
        session.commit()
    store.dispose()
    return settings


@pytest.fixture(scope="session")
def demo_client(demo_settings: Settings) -> FlaskClient:
    return create_app(demo_settings).test_client()


def add_post(store: Store, settings: Settings, **fields: object) -> int:
    """Write one post through the write path; returns its database id."""
    values: dict[str, object] = {
        "title": "A post",
        "slug": f"post-{datetime.now(UTC).timestamp()}",
        "language": "en",
        "summary": "Its summary.",
        "content_html": "<p>Its content.</p>",
        "status": PostStatus.PUBLISHED,
        "published": datetime(2024, 1, 1, tzinfo=UTC),
        "categories": ["tech"],
        "authors": ["Ada Lovelace"],
    }
    values.update(fields)
    values["categories"] = [TermInput(slug) for slug in values["categories"]]  # type: ignore[attr-defined]
    values["authors"] = [AuthorInput(name) for name in values["authors"]]  # type: ignore[attr-defined]
    with store.writing() as session:
        post = create_post(session, settings, PostInput(**values))  # type: ignore[arg-type]
        session.commit()
        return post.id


def parse_feed(body: bytes) -> feedparser.FeedParserDict:
    """Parse a feed as readers do, and fail on anything that is not clean XML and a clean feed."""
    etree.fromstring(body)  # raises on malformed XML
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def feed_title_and_ids(body: bytes) -> tuple[str, list[str]]:
    """The title and entry ids of a feed in any format, as a reader of that format reads
    them: a JSON Feed with jsonfeed-util, Atom and RSS with ``parse_feed``."""
    if body.startswith(b"{"):
        read = jsonfeed.Feed.parse_string(body.decode())
        return read.title, [item.id for item in read.items]
    parsed = parse_feed(body)
    return parsed.feed.title, [entry.id for entry in parsed.entries]
