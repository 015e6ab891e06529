"""RFC 5005 archived feeds: from the subscription document back through every prev-archive,
every published post exactly once; only sealed archives, each fixed and immutable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select
from werkzeug.test import TestResponse

from feeds import create_app
from feeds.cli import main
from feeds.render.feed_history import FEED_HISTORY_NS
from feeds.serving.service import FeedService
from feeds.settings import ConfigError, Settings
from feeds.store import Store
from feeds.store.models import ArchiveBound, Category, Post, ScopeEntry
from feeds.store.queries import post_query
from feeds.store.writes import delete_post
from feeds.tools.static_build import build_static
from tests.conftest import BASE_URL, POSTGRES_URL, REPO, add_post, parse_feed
from tests.test_store import edit, explain, scans_a_table

ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
IMMUTABLE = "public, max-age=31536000, immutable"
BASE = datetime(2024, 1, 1, tzinfo=UTC)
CATEGORIES = (["tech"], ["art"], ["tech", "art"], ["food"])


@pytest.fixture
def archive_settings(settings: Settings) -> Settings:
    """Subscription documents of 2 posts, archives of 3."""
    return settings.replace(items_per_feed=2, archive_size=3)


def write_posts(store: Store, settings: Settings, count: int, start: int = 0) -> list[int]:
    """``count`` posts a day apart (numbered from ``start``), in a few categories."""
    return [
        add_post(
            store,
            settings,
            slug=f"p{number}",
            published=BASE + timedelta(days=number),
            categories=CATEGORIES[number % len(CATEGORIES)],
        )
        for number in range(start, start + count)
    ]


@pytest.fixture
def archived(store: Store, archive_settings: Settings) -> FlaskClient:
    """Twenty published posts, a draft and a post scheduled for next year."""
    write_posts(store, archive_settings, 20)
    add_post(store, archive_settings, slug="draft", status="draft")
    add_post(
        store, archive_settings, slug="later", published=datetime.now(UTC) + timedelta(days=365)
    )
    return create_app(archive_settings).test_client()


def links(body: bytes) -> dict[str, str]:
    """The feed-level links of an Atom or RSS document (atom:link in RSS), by rel."""
    root = etree.fromstring(body)
    head = root if root.tag == f"{{{ATOM}}}feed" else root.find("channel")
    assert head is not None
    return {link.get("rel"): link.get("href") for link in head.findall(f"{{{ATOM}}}link")}


def is_archive(body: bytes) -> bool:
    return bool(etree.fromstring(body).xpath("//fh:archive", namespaces={"fh": FEED_HISTORY_NS}))


def published_entry_ids(store: Store, scope_category: str | None = None) -> list[str]:
    """The entry ids of the posts published now, in the site or in one category."""
    with store.session() as session:
        statement = select(Post.entry_id).join(ScopeEntry, ScopeEntry.post_id == Post.id)
        if scope_category is None:
            statement = statement.where(ScopeEntry.scope == "site")
        else:
            category_id = session.scalar(select(Category.id).where(Category.slug == scope_category))
            statement = statement.where(ScopeEntry.scope == f"cat:{category_id}")
        return list(session.scalars(statement.where(ScopeEntry.published <= datetime.now(UTC))))


def get(client: FlaskClient, url: str, **headers: str) -> TestResponse:
    return client.get(url.removeprefix(BASE_URL), headers=headers)


def walk(client: FlaskClient, path: str) -> Iterator[tuple[str, bytes]]:
    """Each document from the subscription document back along prev-archive: (URL, body)."""
    url: str | None = BASE_URL + path
    while url is not None:
        response = get(client, url)
        assert response.status_code == 200, response.data
        yield url, response.data
        url = links(response.data).get("prev-archive")


def entry_slugs(body: bytes) -> list[str]:
    return [entry.link.rsplit("/", 1)[1] for entry in parse_feed(body).entries]


def assert_walk_finds_every_post_once(
    client: FlaskClient, store: Store, feed: str, fmt: str, category: str | None
) -> list[tuple[str, bytes]]:
    """Walk from the subscription document back through every prev-archive: each archive
    linked as RFC 5005 says, and every published post found exactly once. The documents."""
    subscription = f"{BASE_URL}/feeds/{feed}.{fmt}"
    seen: list[str] = []
    documents = list(walk(client, f"/feeds/{feed}.{fmt}"))
    for position, (url, body) in enumerate(documents):
        parsed = parse_feed(body)
        seen += [entry.id for entry in parsed.entries]
        document_links = links(body)
        assert document_links["self"] == url
        if position <= 1:  # the feed, and the newest archive, have no newer archive
            assert "next-archive" not in document_links
        else:
            assert document_links["next-archive"] == documents[position - 1][0]
        if position == 0:
            assert not is_archive(body) and "current" not in document_links
            continue
        assert is_archive(body)
        assert document_links["current"] == subscription
        number = len(documents) - position  # the newest sealed archive first, down to 1
        assert url == f"{BASE_URL}/feeds/{feed}/archive/{number}.{fmt}"
        assert "next" not in document_links and "first" not in document_links
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(published_entry_ids(store, category))
    return documents


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize(("feed", "category"), [("all", None), ("category/tech", "tech")])
def test_walking_back_from_the_feed_finds_every_published_post_exactly_once(
    archived: FlaskClient, store: Store, fmt: str, feed: str, category: str | None
) -> None:
    documents = assert_walk_finds_every_post_once(archived, store, feed, fmt, category)
    assert len(documents) > 2
    assert documents[-1][0].endswith(f"/archive/1.{fmt}")


def test_archive_1_holds_the_oldest_posts_newest_first(archived: FlaskClient) -> None:
    assert entry_slugs(archived.get("/feeds/all/archive/1.atom").data) == ["p2", "p1", "p0"]


def test_the_subscription_document_holds_every_post_after_the_newest_archive(
    archived: FlaskClient,
) -> None:
    # 20 posts: archives 1-6 sealed (18 posts), the 2 newest in the feed; no open archive.
    body = archived.get("/feeds/all.atom").data
    assert links(body)["prev-archive"] == f"{BASE_URL}/feeds/all/archive/6.atom"
    assert entry_slugs(body) == ["p19", "p18"]
    assert entry_slugs(archived.get("/feeds/all/archive/6.atom").data) == ["p17", "p16", "p15"]
    assert archived.get("/feeds/all/archive/7.atom").status_code == 404
    # tech: 10 posts, archives 1-2 sealed, 4 after them (more than items_per_feed).
    tech = archived.get("/feeds/category/tech.rss").data
    assert entry_slugs(tech) == ["p18", "p16", "p14", "p12"]
    assert links(tech)["prev-archive"] == f"{BASE_URL}/feeds/category/tech/archive/2.rss"
    # JSON Feed has no archives, but its first page holds the same posts.
    items = archived.get("/feeds/category/tech.json").json
    assert items is not None
    assert [item["url"].rsplit("/", 1)[1] for item in items["items"]] == entry_slugs(tech)


def test_older_pages_follow_the_subscription_document(archived: FlaskClient) -> None:
    older = links(archived.get("/feeds/category/tech.atom").data)["next"]
    page = get(archived, older).data
    assert "prev-archive" not in links(page)
    assert entry_slugs(page) == ["p10", "p8"]


@pytest.mark.parametrize(
    "path",
    [
        "/en/feeds/all.atom",
        "/en/feeds/category/tech.rss",
        "/feeds/category/art+tech.atom",
        "/feeds/author/ada-lovelace.rss",
    ],
)
def test_feeds_without_archives_hold_items_per_feed_and_link_no_archive(
    archived: FlaskClient, path: str
) -> None:
    body = archived.get(path).data
    assert len(parse_feed(body).entries) == 2
    assert "prev-archive" not in links(body)
    archive_path = path.replace(".atom", "/archive/1.atom").replace(".rss", "/archive/1.rss")
    response = archived.get(archive_path)
    assert response.status_code == 404 and response.json is not None


def test_every_archive_is_immutable_and_revalidates_with_its_etag(
    archived: FlaskClient,
) -> None:
    newest = archived.get("/feeds/all/archive/6.rss")
    assert newest.headers["Cache-Control"] != IMMUTABLE  # it will link archive 7 when sealed
    assert "max-age=300" in newest.headers["Cache-Control"]
    assert archived.get("/feeds/all/archive/7.rss").status_code == 404
    for number in range(1, 6):
        path = f"/feeds/all/archive/{number}.rss"
        response = archived.get(path)
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert "CDN-Cache-Control" not in response.headers
        assert response.headers["Surrogate-Key"] == "feeds feeds.site"
        again = archived.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
        assert again.headers["Cache-Control"] == IMMUTABLE
    zipped = archived.get("/feeds/all/archive/2.rss", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"


def test_adding_posts_seals_new_archives_and_never_changes_an_existing_ones_entries(
    store: Store, archive_settings: Settings
) -> None:
    """An archive's entries never change; its bytes change once, when the next archive is
    sealed and it gains its next-archive link, and never again: it is then served immutable."""
    client = create_app(archive_settings).test_client()
    entries: dict[str, list[str]] = {}
    final: dict[str, tuple[bytes, str]] = {}
    for number in range(16):
        write_posts(store, archive_settings, 1, start=number)
        for fmt in ("atom", "rss"):
            documents = assert_walk_finds_every_post_once(client, store, "all", fmt, None)
            # items_per_feed to items_per_feed + archive_size - 1 posts, once it has 2.
            assert min(number + 1, 2) <= len(parse_feed(documents[0][1]).entries) <= 4
            for url, body in documents[1:]:
                ids = [entry.id for entry in parse_feed(body).entries]
                assert entries.setdefault(url, ids) == ids, url
                response = get(client, url)
                if response.headers["Cache-Control"] == IMMUTABLE:
                    known = final.setdefault(url, (response.data, response.headers["ETag"]))
                    assert known == (response.data, response.headers["ETag"]), url
                    assert "next-archive" in links(response.data)
    archives = entries
    # 16 posts: sealed once 5 follow the last bound, 3 at a time.
    assert sorted(archives) == sorted(
        f"{BASE_URL}/feeds/all/archive/{n}.{fmt}" for n in range(1, 5) for fmt in ("atom", "rss")
    )


def bound_rows(store: Store) -> list[tuple[str, int, datetime, int]]:
    with store.session() as session:
        rows = session.scalars(
            select(ArchiveBound).order_by(ArchiveBound.scope, ArchiveBound.number)
        )
        return [(b.scope, b.number, b.last_published, b.last_post_id) for b in rows]


def test_an_edit_inside_a_sealed_archive_changes_it_but_not_its_range(
    store: Store, archive_settings: Settings
) -> None:
    ids = write_posts(store, archive_settings, 8)
    client = create_app(archive_settings).test_client()
    before = client.get("/feeds/all/archive/1.atom")
    bounds = bound_rows(store)
    edit(store, archive_settings, ids[1], title="A better title")
    after = client.get("/feeds/all/archive/1.atom")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "A better title" in [e.title for e in parse_feed(after.data).entries]
    assert [e.id for e in parse_feed(after.data).entries] == [
        e.id for e in parse_feed(before.data).entries
    ]
    assert bound_rows(store) == bounds


def test_a_post_deleted_from_a_sealed_archive_leaves_it_with_a_tombstone_in_the_feed(
    store: Store, archive_settings: Settings
) -> None:
    ids = write_posts(store, archive_settings, 8)
    client = create_app(archive_settings).test_client()
    with store.writing() as session:
        post = session.scalars(post_query().where(Post.id == ids[1])).one()
        entry_id = post.entry_id
        delete_post(session, archive_settings, post)
        session.commit()
    archive = parse_feed(client.get("/feeds/all/archive/1.atom").data)
    assert [e.link[-2:] for e in archive.entries] == ["p2", "p0"]
    feed = etree.fromstring(client.get("/feeds/all.atom").data)
    refs = feed.xpath("//at:deleted-entry/@ref", namespaces={"at": TOMBSTONES})
    assert refs == [entry_id]
    assert not etree.fromstring(client.get("/feeds/all/archive/1.atom").data).xpath(
        "//at:deleted-entry", namespaces={"at": TOMBSTONES}
    )


def test_a_post_backdated_into_a_sealed_range_joins_that_archive(
    store: Store, archive_settings: Settings
) -> None:
    write_posts(store, archive_settings, 8)
    add_post(store, archive_settings, slug="old", published=BASE + timedelta(hours=12))
    client = create_app(archive_settings).test_client()
    entries = parse_feed(client.get("/feeds/all/archive/1.atom").data).entries
    assert [e.link.rsplit("/", 1)[1] for e in entries] == ["p2", "p1", "old", "p0"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/all/archive/99.atom", 404),
        ("/feeds/all/archive/7.atom", 404),  # the next one, not sealed yet
        ("/feeds/tag/python/archive/1.atom", 404),
        ("/feeds/author/ada-lovelace/archive/1.rss", 404),
        ("/feeds/category/art+tech/archive/1.atom", 404),
        ("/feeds/category/tech/archive/1.json", 404),
        ("/feeds/all/archive/0.atom", 404),
        ("/feeds/all/archive/-1.atom", 404),
        ("/feeds/all/archive/01.atom", 404),
        ("/feeds/all/archive/99999999999999999999999.atom", 404),
        ("/feeds/all/archive/1000000000.rss", 404),
        ("/feeds/all/archive/x.atom", 404),
        ("/feeds/all/archive/1.json", 404),
        ("/en/feeds/all/archive/1.atom", 404),
        ("/feeds/category/nope/archive/1.atom", 404),
        ("/feeds/all/archive/1.atom?before=1-1", 400),
    ],
)
def test_a_bad_archive_url_gets_a_json_error(archived: FlaskClient, path: str, status: int) -> None:
    response = archived.get(path)
    assert response.status_code == status
    assert response.json is not None and response.json["status"] == status


def test_a_feed_with_few_posts_has_no_archive(store: Store, archive_settings: Settings) -> None:
    write_posts(store, archive_settings, 2)
    client = create_app(archive_settings).test_client()
    assert "prev-archive" not in links(client.get("/feeds/all.atom").data)
    assert client.get("/feeds/all/archive/1.atom").status_code == 404


def test_archive_size_must_be_positive(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="archive_size: must be at least 1"):
        settings.replace(archive_size=0)


def test_db_upgrade_seals_a_store_written_before_archives(store: Store, settings: Settings) -> None:
    write_posts(store, settings.replace(archive_size=1000), 10)
    assert bound_rows(store) == []
    environment = {
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": settings.database_url,
        "FEEDS_ITEMS_PER_FEED": "2",
        "FEEDS_ARCHIVE_SIZE": "3",
    }
    result = CliRunner().invoke(main, ["db", "upgrade"], env=environment, prog_name="feeds")
    assert result.exit_code == 0, result.output
    assert "archives sealed in" in result.output
    assert [number for scope, number, _, _ in bound_rows(store) if scope == "site"] == [1, 2]


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/all/archive/2.atom",  # sealed: between two bounds
        "/feeds/category/tech/archive/1.rss",  # sealed: up to the first bound
        "/feeds/all/archive/6.atom",  # sealed: the newest
        "/feeds/all.atom",  # the subscription document: how many posts follow the last bound?
    ],
)
def test_archive_reads_are_index_range_scans(
    archived: FlaskClient, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tests.test_store.SCOPED_TABLES", ("scope_entries", "archive_bounds"))
    plans = explain(archived, path)
    steps = [step for plan in plans.values() for step in plan]
    for statement, plan in plans.items():
        if POSTGRES_URL:
            wrong = [step for step in plan if step.startswith(("Sort", "Seq Scan", "Bitmap"))]
        else:
            wrong = [step for step in plan if scans_a_table(step) or "TEMP B-TREE" in step]
        assert not wrong, (statement, plan)
    if POSTGRES_URL:
        bounds = re.compile(r"Index (Only )?Scan (Backward )?using pk_archive_bounds")
        ranged = re.compile(
            r"Index Only Scan (Backward )?using pk_scope_entries on scope_entries .*published [<>]"
        )
    else:
        bounds = re.compile(r"SEARCH archive_bounds USING PRIMARY KEY \(scope=\?")
        ranged = re.compile(
            r"SEARCH scope_entries USING PRIMARY KEY "
            r"\(scope=\? AND (published>\? AND )?published<\?\)"
        )
    assert any(bounds.match(step) for step in steps), plans
    assert any(ranged.match(step) for step in steps), plans


def test_static_export_writes_each_archive_once(
    store: Store, archive_settings: Settings, tmp_path: Path
) -> None:
    write_posts(store, archive_settings, 6)  # archive 1: p0-p2; the feed: p3-p5
    service = FeedService(archive_settings, store)
    first = build_static(service, tmp_path)
    archives = {name for name in first.written if "/archive/" in name}
    assert archives == {f"feeds/all/archive/1.{fmt}" for fmt in ("atom", "rss", "html")}
    sealed = tmp_path / "feeds/all/archive/1.atom"
    assert is_archive(sealed.read_bytes())
    written_at = sealed.stat().st_mtime_ns, sealed.stat().st_ino
    write_posts(store, archive_settings, 3, start=6)  # archive 2: p3-p5
    second = build_static(service, tmp_path)
    # archive 1 is written once more: it now links archive 2, and is final
    assert {"feeds/all/archive/1.atom", "feeds/all/archive/1.rss"} <= set(second.written)
    assert {"feeds/all/archive/2.atom", "feeds/all/archive/2.rss"} <= set(second.written)
    assert b"next-archive" in sealed.read_bytes()
    rewritten_at = sealed.stat().st_mtime_ns, sealed.stat().st_ino
    assert rewritten_at[1] != written_at[1]  # a new file (written whole, then renamed)
    write_posts(store, archive_settings, 3, start=9)  # archive 3: p6-p8
    third = build_static(service, tmp_path)
    assert {"feeds/all/archive/1.atom", "feeds/all/archive/1.rss"} <= set(third.skipped)
    assert {"feeds/all/archive/2.atom", "feeds/all/archive/2.rss"} <= set(third.written)
    assert (sealed.stat().st_mtime_ns, sealed.stat().st_ino) == rewritten_at
