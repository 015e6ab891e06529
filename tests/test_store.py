"""The post store: entry ids, time zones, the write path's checks, and the query plans."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import event, select

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import Category, Post, ScopeEntry, post_categories
from feeds.store.queries import post_query
from feeds.store.validation import AuthorInput, InvalidInput, PostInput, TermInput
from feeds.store.writes import update_post
from feeds.web.app_state import app_state
from tests.conftest import BASE_URL, POSTGRES_URL, add_post, parse_feed


def load_post(store: Store, post_id: int) -> Post:
    with store.session() as session:
        return session.scalars(post_query().where(Post.id == post_id)).one()


def edit(store: Store, settings: Settings, post_id: int, **changes: object) -> bool:
    with store.session() as session:
        post = session.scalars(post_query().where(Post.id == post_id)).one()
        data = PostInput(
            title=post.title,
            slug=post.slug,
            language=post.language,
            summary=post.summary,
            content_html=post.content_html,
            status=post.status,
            published=post.published,
            categories=[TermInput(c.slug) for c in post.categories],
            authors=[AuthorInput(a.name) for a in post.authors],
        )
        for name, value in changes.items():
            setattr(data, name, value)
        changed = update_post(session, settings, post, data)
        session.commit()
        return changed


def test_entry_id_survives_title_and_slug_edits(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    post_id = add_post(store, settings, title="Old title", slug="old-slug")
    before = parse_feed(client.get("/feeds/all.atom").data).entries[0]
    assert edit(store, settings, post_id, title="New title", slug="new-slug")
    after = parse_feed(client.get("/feeds/all.atom").data).entries[0]
    assert after.title == "New title"
    assert after.link.endswith("/new-slug")
    assert after.id == before.id
    rss_guid = parse_feed(client.get("/feeds/all.rss").data).entries[0].id
    assert rss_guid == before.id


def test_entry_id_cannot_be_changed(store: Store, settings: Settings) -> None:
    post_id = add_post(store, settings)
    with pytest.raises(InvalidInput, match="entry_id"):
        edit(store, settings, post_id, entry_id="urn:uuid:00000000-0000-0000-0000-000000000000")
    post = load_post(store, post_id)
    with pytest.raises(ValueError, match="never changes"):
        post.entry_id = "tag:example.com,2024:other"


def test_updated_moves_only_on_a_real_change(store: Store, settings: Settings) -> None:
    post_id = add_post(store, settings)
    first = load_post(store, post_id).updated
    assert not edit(store, settings, post_id)
    assert load_post(store, post_id).updated == first
    assert edit(store, settings, post_id, summary="A better summary.")
    assert load_post(store, post_id).updated > first


def test_datetimes_are_stored_in_utc_and_come_back_aware(store: Store, settings: Settings) -> None:
    paris_summer = timezone(timedelta(hours=2))
    post_id = add_post(store, settings, published=datetime(2024, 6, 1, 12, 0, tzinfo=paris_summer))
    post = load_post(store, post_id)
    assert post.published == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    assert post.published.tzinfo is UTC
    with store.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT published FROM posts").scalar_one()
    assert str(raw).startswith("2024-06-01 10:00:00")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "   "),
        ("slug", "has space"),
        ("slug", "a/b"),
        ("language", "xx"),
        ("published", datetime(2024, 1, 1)),
        ("categories", ["bad/slug"]),
        ("authors", [" "]),
    ],
)
def test_invalid_posts_are_refused_and_nothing_is_written(
    store: Store, settings: Settings, field: str, value: object
) -> None:
    with pytest.raises(InvalidInput) as raised:
        add_post(store, settings, **{field: value})
    assert raised.value.field == field
    with store.session() as session:
        assert session.scalars(select(Post)).all() == []


def test_categories_are_created_on_first_use(store: Store, settings: Settings) -> None:
    add_post(store, settings, categories=["brand-new"])
    with store.session() as session:
        assert session.scalars(select(Category.slug)).all() == ["brand-new"]


def test_drafts_have_no_scope_entries_until_published(store: Store, settings: Settings) -> None:
    post_id = add_post(store, settings, status="draft")
    with store.session() as session:
        assert session.scalars(select(ScopeEntry)).all() == []
    edit(store, settings, post_id, status="published")
    with store.session() as session:
        scopes = set(session.scalars(select(ScopeEntry.scope)))
    post = load_post(store, post_id)
    terms = [f"cat:{post.categories[0].id}", f"author:{post.authors[0].id}"]
    assert scopes == {"site", "lang:en", *terms, *(f"{term}/lang:en" for term in terms)}


# --- query plans: the latest-N query must walk an index, never sort a scope -------------


SCOPED_TABLES = ("scope_entries", "deleted_entries")
ATOM_NS = "http://www.w3.org/2005/Atom"


def explain(client: FlaskClient, path: str) -> dict[str, list[str]]:
    """The plan of each query on the scope tables that a feed request really runs."""
    store: Store = app_state(client.application).store
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if any(table in statement for table in SCOPED_TABLES):
            captured.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    return {
        statement: plan_steps(store, statement, parameters) for statement, parameters in captured
    }


def plan_steps(store: Store, statement: str, parameters: object) -> list[str]:
    """The steps of a query's plan, one line each: SQLite's EXPLAIN QUERY PLAN, or the nodes
    of PostgreSQL's EXPLAIN, as "<node type> using <index> on <table> <condition>"."""
    with store.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [row[-1] for row in rows]
        # A test table is tiny, and PostgreSQL would rather read it whole; the question here
        # is whether an index can serve the query's order, as it must on a large store.
        connection.exec_driver_sql("SET enable_seqscan = off")
        (plan,) = connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) {statement}", parameters
        ).scalar_one()
        return list(_postgres_steps(plan["Plan"]))


def _postgres_steps(node: dict) -> Iterator[str]:
    step = node["Node Type"]
    if node.get("Scan Direction") == "Backward":
        step += " Backward"
    if "Index Name" in node:
        step += f" using {node['Index Name']}"
    if "Relation Name" in node:
        step += f" on {node['Relation Name']}"
    step += f" {node.get('Index Cond', '')}"
    yield step.strip()
    for child in node.get("Plans", []):
        yield from _postgres_steps(child)


# SQLite's SCAN steps that read no table: a SELECT with no FROM, and the rows a LIMIT kept
# in a subquery (the count of a subscription document's posts).
_READS_NO_TABLE = re.compile(r"SCAN (CONSTANT ROW|anon_[0-9]+)$")


def scans_a_table(step: str) -> bool:
    """Whether a step of SQLite's plan reads a whole table (or index)."""
    return step.startswith("SCAN") and _READS_NO_TABLE.match(step) is None


def assert_index_range_scans(plans: dict[str, list[str]], queries: int = 4) -> None:
    """No query sorts or scans a scope table, and the latest-N query walks the index."""
    # The first page: latest posts, deletions, next due post, oldest deletion (and, for
    # the site and category feeds, how many posts follow their newest archive).
    assert len(plans) == queries, list(plans)
    steps = [step for plan in plans.values() for step in plan]
    if POSTGRES_URL:
        for statement, plan in plans.items():
            assert not any(step.startswith(("Sort", "Seq Scan", "Bitmap")) for step in plan), (
                statement,
                plan,
            )
            assert any(" using pk_" in step and "scope" in step for step in plan), plan
        latest = re.compile(
            r"Index (Only )?Scan Backward using pk_scope_entries on scope_entries .*published <="
        )
        assert any(latest.match(step) for step in steps), plans
        return
    for statement, plan in plans.items():
        assert not any("TEMP B-TREE" in step for step in plan), (statement, plan)
        assert not any(scans_a_table(step) for step in plan), (statement, plan)
        assert any(step.startswith("SEARCH") and "(scope=?" in step for step in plan), plan
    latest = re.compile(
        r"SEARCH scope_entries USING (PRIMARY KEY|(COVERING )?INDEX \S+)"
        r" \(scope=\? AND published<\?\)"
    )
    assert any(latest.match(step) for step in steps), plans


@pytest.fixture
def busy_store(store: Store, settings: Settings) -> Store:
    """A store with enough posts for the planner's choices to matter."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(60):
        add_post(
            store,
            settings,
            slug=f"post-{number}",
            published=base + timedelta(hours=number),
            language=["en", "fr", "ar"][number % 3],
            categories=[["tech"], ["tech", "donjon"], ["enterprise"]][number % 3],
            tags=[TermInput(["wallets", "keys"][number % 2])],
        )
    store.analyze()
    return store


@pytest.fixture
def plan_client(busy_store: Store, settings: Settings) -> FlaskClient:
    """Feeds of 5 entries: a feed reads few of its scope's rows, as on a large store, where
    the planner's choice is the one that matters."""
    return create_app(settings.replace(items_per_feed=5)).test_client()


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/all.atom",
        "/fr/feeds/all.atom",
        "/feeds/category/tech.rss",
        "/fr/feeds/category/tech.rss",
        "/feeds/tag/wallets.json",
        "/fr/feeds/tag/keys.atom",
        "/feeds/author/ada-lovelace.rss",
        "/ar/feeds/author/ada-lovelace.json",
    ],
)
def test_latest_posts_query_is_an_index_range_scan(
    busy_store: Store, plan_client: FlaskClient, path: str
) -> None:
    # The site and category feeds (every language) have archives.
    archived = path.startswith(("/feeds/all.", "/feeds/category/"))
    assert_index_range_scans(explain(plan_client, path), queries=5 if archived else 4)


def test_plan_check_catches_a_sort_of_the_whole_category(busy_store: Store) -> None:
    """The usual JOIN … ORDER BY posts.published sorts the category: the check must see it."""
    naive = (
        select(Post)
        .join(post_categories, post_categories.c.post_id == Post.id)
        .where(post_categories.c.category_id == 1)
        .order_by(Post.published.desc())
        .limit(50)
    )
    compiled = naive.compile(busy_store.engine)
    parameters = (
        compiled.params
        if POSTGRES_URL
        else tuple(compiled.params[name] for name in compiled.positiontup)
    )
    plan = plan_steps(busy_store, str(compiled), parameters)
    sort = "Sort" if POSTGRES_URL else "USE TEMP B-TREE FOR ORDER BY"
    assert any(step.startswith(sort) for step in plan), plan


def test_an_older_page_is_an_index_range_scan_too(plan_client: FlaskClient) -> None:
    first = etree.fromstring(plan_client.get("/feeds/all.atom").data)
    (next_page,) = first.xpath("//a:link[@rel='next']/@href", namespaces={"a": ATOM_NS})
    assert "?before=" in next_page
    assert_index_range_scans(explain(plan_client, next_page.removeprefix(BASE_URL)), queries=1)
