"""RFC 5005 archived feeds: from the subscription document back through every prev-archive,
every published post exactly once; sealed archives fixed and immutable, the open one not."""

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
from tests.test_store import edit, explain

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


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize(("feed", "category"), [("all", None), ("category/tech", "tech")])
def test_walking_back_from_the_feed_finds_every_published_post_exactly_once(
    archived: FlaskClient, store: Store, fmt: str, feed: str, category: str | None
) -> None:
    subscription = f"{BASE_URL}/feeds/{feed}.{fmt}"
    seen: list[str] = []
    documents = list(walk(archived, f"/feeds/{feed}.{fmt}"))
    assert len(documents) > 2
    for position, (url, body) in enumerate(documents):
        parsed = parse_feed(body)
        seen += [entry.id for entry in parsed.entries]
        document_links = links(body)
        assert document_links["self"] == url
        if position == 0:
            assert not is_archive(body) and "current" not in document_links
            continue
        assert is_archive(body)
        assert document_links["current"] == subscription
        number = int(url.rsplit("/", 1)[1].split(".")[0])
        assert url == f"{BASE_URL}/feeds/{feed}/archive/{number}.{fmt}"
        if number > 1:
            assert document_links["prev-archive"].endswith(f"/archive/{number - 1}.{fmt}")
        if position > 1:  # the archive we came from is the next one
            assert document_links["next-archive"] == documents[position - 1][0]
        assert "next" not in document_links and "first" not in document_links
    assert documents[-1][0].endswith(f"/archive/1.{fmt}")
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(published_entry_ids(store, category))


def test_archive_1_holds_the_oldest_posts_newest_first(archived: FlaskClient) -> None:
    entries = parse_feed(archived.get("/feeds/all/archive/1.atom").data).entries
    assert [entry.link.rsplit("/", 1)[1] for entry in entries] == ["p2", "p1", "p0"]


def test_the_subscription_document_links_the_newest_archive(archived: FlaskClient) -> None:
    # 20 posts: archives 1-6 sealed (18 posts), the 2 newest in the feed: no open archive.
    body = archived.get("/feeds/all.atom").data
    assert links(body)["prev-archive"] == f"{BASE_URL}/feeds/all/archive/6.atom"
    # The last sealed archive links the open one, empty for now.
    assert links(archived.get("/feeds/all/archive/6.atom").data)["next-archive"].endswith(
        "/archive/7.atom"
    )
    assert parse_feed(archived.get("/feeds/all/archive/7.atom").data).entries == []
    assert archived.get("/feeds/all/archive/8.atom").status_code == 404


def test_language_feeds_and_older_pages_link_no_archive(archived: FlaskClient) -> None:
    assert "prev-archive" not in links(archived.get("/en/feeds/all.atom").data)
    older = links(archived.get("/feeds/all.atom").data)["next"]
    assert "prev-archive" not in links(get(archived, older).data)


def test_a_sealed_archive_is_immutable_and_revalidates_with_its_etag(
    archived: FlaskClient,
) -> None:
    response = archived.get("/feeds/all/archive/2.rss")
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert "CDN-Cache-Control" not in response.headers
    assert response.headers["Surrogate-Key"] == "feeds feeds.site"
    again = archived.get(
        "/feeds/all/archive/2.rss", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == IMMUTABLE
    zipped = archived.get("/feeds/all/archive/2.rss", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"


def test_the_open_archive_fills_then_seals_under_the_same_url(
    store: Store, archive_settings: Settings
) -> None:
    write_posts(store, archive_settings, 6)  # archive 1: p0-p2; open: p3; feed: p4, p5
    client = create_app(archive_settings).test_client()
    open_archive = client.get("/feeds/all/archive/2.atom")
    assert open_archive.headers["Cache-Control"] != IMMUTABLE
    assert not open_archive.headers["Cache-Control"].endswith("immutable")
    assert [e.link[-2:] for e in parse_feed(open_archive.data).entries] == ["p3"]
    assert "next-archive" not in links(open_archive.data)
    write_posts(store, archive_settings, 1, start=6)  # open: p3, p4
    assert len(parse_feed(client.get("/feeds/all/archive/2.atom").data).entries) == 2
    write_posts(store, archive_settings, 1, start=7)  # p5 leaves the feed: archive 2 sealed
    sealed = client.get("/feeds/all/archive/2.atom")
    assert sealed.headers["Cache-Control"] == IMMUTABLE
    assert [e.link[-2:] for e in parse_feed(sealed.data).entries] == ["p5", "p4", "p3"]
    write_posts(store, archive_settings, 7, start=8)
    later = client.get("/feeds/all/archive/2.atom")
    assert later.data == sealed.data and later.headers["ETag"] == sealed.headers["ETag"]


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
        "/feeds/all/archive/7.atom",  # open: after the last bound, up to now
        "/feeds/all.atom",  # the subscription document: is there an open archive?
    ],
)
def test_archive_reads_are_index_range_scans(
    archived: FlaskClient, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tests.test_store.SCOPED_TABLES", ("scope_entries", "archive_bounds"))
    plans = explain(archived, path)
    steps = [step for plan in plans.values() for step in plan]
    for statement, plan in plans.items():
        wrong = ("Sort", "Seq Scan", "Bitmap") if POSTGRES_URL else ("SCAN", "USE TEMP B-TREE")
        assert not any(step.startswith(wrong) for step in plan), (statement, plan)
    if POSTGRES_URL:
        bounds = re.compile(r"Index (Only )?Scan (Backward )?using pk_archive_bounds")
        ranged = re.compile(
            r"Index Only Scan Backward using pk_scope_entries on scope_entries .*"
            r"published (>=|<=) .*published (>=|<=) "
        )
    else:
        bounds = re.compile(r"SEARCH archive_bounds USING PRIMARY KEY \(scope=\?")
        ranged = re.compile(
            r"SEARCH scope_entries USING PRIMARY KEY \(scope=\? AND published>\? AND published<\?\)"
        )
    assert any(bounds.match(step) for step in steps), plans
    assert any(ranged.match(step) for step in steps), plans


def test_static_export_writes_every_archive_and_a_sealed_one_once(
    store: Store, archive_settings: Settings, tmp_path: Path
) -> None:
    write_posts(store, archive_settings, 6)
    service = FeedService(archive_settings, store)
    first = build_static(service, tmp_path)
    assert {"feeds/all/archive/1.atom", "feeds/all/archive/2.rss"} <= set(first.written)
    sealed = tmp_path / "feeds/all/archive/1.atom"
    assert is_archive(sealed.read_bytes())
    written_at = sealed.stat().st_mtime_ns, sealed.stat().st_ino
    write_posts(store, archive_settings, 2, start=6)
    second = build_static(service, tmp_path)
    assert "feeds/all/archive/1.atom" in second.skipped
    assert "feeds/all/archive/2.atom" in second.written  # the open one, now sealed
    assert (sealed.stat().st_mtime_ns, sealed.stat().st_ino) == written_at
