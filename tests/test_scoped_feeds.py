"""Tag, author and combined category feeds, as a reader and an aggregator see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jsonfeed
import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from feeds import create_app
from feeds.settings import Hub, Settings
from feeds.store import Store
from feeds.store.models import Author
from feeds.store.validation import TermInput
from tests.conftest import add_post, parse_feed
from tests.test_store import explain

BASE = datetime(2024, 3, 1, tzinfo=UTC)
ATOM = {"a": "http://www.w3.org/2005/Atom"}


def read(client: FlaskClient, path: str) -> tuple[str, list[str]]:
    """The title of a feed and its entries' titles, as a reader of its format reads them:
    JSON Feed with jsonfeed-util, Atom and RSS with feedparser (bozo 0)."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.data[:200])
    if path.endswith(".json"):
        feed = jsonfeed.Feed.parse_string(response.data.decode())
        return feed.title, [item.title for item in feed.items]
    parsed = parse_feed(response.data)
    return parsed.feed.title, [entry.title for entry in parsed.entries]


def titles(client: FlaskClient, path: str) -> list[str]:
    return read(client, path)[1]


@pytest.fixture
def filed(store: Store, settings: Settings) -> Settings:
    """Posts in two categories, some in both, tagged and written by different authors."""
    posts = [  # title, categories, tags, authors, language
        ("tech only", ["tech"], ["wallets"], ["Ada Lovelace"], "en"),
        ("science only", ["science"], ["keys"], ["Grace Hopper"], "fr"),
        ("both", ["science", "tech"], ["wallets", "keys"], ["Ada Lovelace"], "en"),
        ("neither", ["donjon"], [], ["Grace Hopper"], "fr"),
        ("tech in french", ["tech"], ["wallets"], ["Grace Hopper"], "fr"),
    ]
    for number, (title, categories, tags, authors, language) in enumerate(posts):
        add_post(
            store, settings, title=title, slug=f"p{number}", language=language,
            published=BASE + timedelta(hours=number), categories=categories,
            tags=[TermInput(tag) for tag in tags], authors=authors,
        )  # fmt: skip
    return settings


@pytest.fixture
def reader(filed: Settings) -> FlaskClient:
    return create_app(filed).test_client()


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_a_tag_feed_holds_only_that_tags_posts_newest_first(reader: FlaskClient, fmt: str) -> None:
    assert titles(reader, f"/feeds/tag/wallets.{fmt}") == ["tech in french", "both", "tech only"]
    assert titles(reader, f"/fr/feeds/tag/wallets.{fmt}") == ["tech in french"]


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_an_author_feed_holds_the_authors_posts(reader: FlaskClient, fmt: str) -> None:
    assert titles(reader, f"/feeds/author/grace-hopper.{fmt}") == [
        "tech in french",
        "neither",
        "science only",
    ]
    assert titles(reader, f"/en/feeds/author/grace-hopper.{fmt}") == []


def test_tag_and_author_feeds_say_what_they_are_and_link_their_pages(
    reader: FlaskClient, filed: Settings
) -> None:
    tag = etree.fromstring(reader.get("/fr/feeds/tag/wallets.atom").data)
    assert tag.findtext("a:title", namespaces=ATOM) == "Ledger Blog – #wallets (Français)"
    alternate = tag.find("a:link[@rel='alternate']", namespaces=ATOM)
    assert alternate is not None
    assert alternate.get("href") == "https://www.ledger.com/fr/blog/tag/wallets"
    author = parse_feed(reader.get("/feeds/author/ada-lovelace.rss").data)
    assert author.feed.title == "Ledger Blog – by Ada Lovelace"
    # RSS's own <link> is the blog's page; the feed's page is an atom:link alternate
    rss = etree.fromstring(reader.get("/feeds/author/ada-lovelace.rss").data)
    assert rss.findtext("channel/link") == "https://www.ledger.com/blog/author/ada-lovelace"
    pages = [link.href for link in author.feed.links if link.get("type") == "text/html"]
    assert pages[-1] == f"{filed.base_url}/feeds/author/ada-lovelace.html"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/feeds/tag/nowhere.atom", "unknown tag 'nowhere'"),
        ("/feeds/author/nobody.rss", "unknown author 'nobody'"),
        ("/fr/feeds/category/nothing.json", "unknown category 'nothing'"),
    ],
)
def test_an_unknown_tag_or_author_is_a_json_404(
    reader: FlaskClient, path: str, message: str
) -> None:
    response = reader.get(path)
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"] == message


def test_an_author_slug_is_made_once_and_kept_across_renames(api: FlaskClient) -> None:
    first = api.post("/api/authors", json={"name": "Zoë Núñez"}).get_json()
    assert first["slug"] == "zoe-nunez"  # ASCII: transliterated
    clash = api.post("/api/authors", json={"name": "zoë núñez!"}).get_json()
    assert clash["slug"] == "zoe-nunez-2"
    arabic = api.post("/api/authors", json={"name": "عمر حداد"}).get_json()
    assert arabic["slug"] == "mr-hdd"
    nothing = api.post("/api/authors", json={"name": "!!!"}).get_json()
    assert nothing["slug"] == "author"
    chosen = api.post("/api/authors", json={"name": "Kim", "slug": "kim-k"}).get_json()
    assert chosen["slug"] == "kim-k"
    taken = api.post("/api/authors", json={"name": "Other", "slug": "kim-k"})
    assert taken.status_code == 409 and taken.get_json()["field"] == "slug"
    renamed = api.patch(f"/api/authors/{first['id']}", json={"name": "Zoë N."}).get_json()
    assert renamed["slug"] == "zoe-nunez"


def test_an_import_makes_slugs_for_new_authors(store: Store, settings: Settings) -> None:
    add_post(store, settings, slug="one", authors=["Jean-Luc Picard"])
    add_post(store, settings, slug="two", authors=["jean luc picard"])
    with store.session() as session:
        slugs = session.execute(select(Author.name, Author.slug).order_by(Author.id)).all()
    assert [tuple(row) for row in slugs] == [
        ("Jean-Luc Picard", "jean-luc-picard"),
        ("jean luc picard", "jean-luc-picard-2"),
    ]


# --- combined category feeds ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_a_combined_feed_holds_each_post_of_any_category_once(
    reader: FlaskClient, fmt: str
) -> None:
    assert titles(reader, f"/feeds/category/science+tech.{fmt}") == [
        "tech in french",
        "both",
        "science only",
        "tech only",
    ]
    assert titles(reader, f"/fr/feeds/category/science+tech.{fmt}") == [
        "tech in french",
        "science only",
    ]
    assert read(reader, f"/feeds/category/science+tech.{fmt}")[0] == "Ledger Blog – science + tech"


def test_categories_in_another_order_are_redirected_to_the_canonical_url(
    reader: FlaskClient,
) -> None:
    response = reader.get("/fr/feeds/category/tech+science.atom")
    assert response.status_code == 301
    assert response.headers["Location"] == "/fr/feeds/category/science+tech.atom"
    assert response.is_json
    older = reader.get("/feeds/category/tech+science.rss?before=1709294400000000-3")
    assert older.status_code == 301
    assert older.headers["Location"] == "/feeds/category/science+tech.rss?before=1709294400000000-3"


def test_a_unicode_combination_is_redirected_to_an_ascii_location(
    store: Store, settings: Settings
) -> None:
    add_post(store, settings, slug="u", categories=["société", "économie"])
    response = create_app(settings).test_client().get("/feeds/category/économie+société.atom")
    assert response.status_code == 301
    assert response.headers["Location"] == ("/feeds/category/soci%C3%A9t%C3%A9+%C3%A9conomie.atom")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/feeds/category/tech+tech.atom", "category 'tech' is named twice"),
        ("/feeds/category/a+b+c+d+e.atom", "a feed combines at most 4 categories, not 5"),
        ("/feeds/category/science+tech+zzz.rss", "unknown category 'zzz'"),
        ("/feeds/category/+tech.json", "'+tech' names an empty category"),
        ("/feeds/category/science++tech.atom", "'science++tech' names an empty category"),
    ],
)
def test_a_combination_that_cannot_be_is_a_json_400(
    reader: FlaskClient, path: str, message: str
) -> None:
    response = reader.get(path)
    assert response.status_code == 400 and response.is_json
    assert response.get_json() == {"error": message, "status": 400, "field": "category"}


def test_the_maximum_of_combined_categories_is_configurable(filed: Settings) -> None:
    client = create_app(filed.replace(max_combined_categories=2)).test_client()
    assert client.get("/feeds/category/donjon+science.atom").status_code == 200
    response = client.get("/feeds/category/donjon+science+tech.atom")
    assert response.status_code == 400
    assert "at most 2 categories" in response.get_json()["error"]


def test_a_category_slug_cannot_hold_the_combining_plus(api: FlaskClient) -> None:
    response = api.post("/api/categories", json={"slug": "c++", "name": "C++"})
    assert response.status_code == 422 and response.get_json()["field"] == "slug"


def test_a_combined_feed_changes_when_any_of_its_categories_does(
    reader: FlaskClient, filed: Settings, store: Store
) -> None:
    path = "/feeds/category/science+tech.atom"
    first = reader.get(path)
    etag = first.headers["ETag"]
    assert reader.get(path, headers={"If-None-Match": etag}).status_code == 304
    add_post(store, filed, title="more science", slug="more", categories=["science"],
             published=BASE + timedelta(days=1))  # fmt: skip
    client = create_app(filed.replace(revision_check_seconds=0)).test_client()
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert parse_feed(changed.data).entries[0].title == "more science"
    add_post(store, filed, title="elsewhere", slug="elsewhere", categories=["donjon"],
             tags=[], authors=[])  # fmt: skip
    again = client.get(path, headers={"If-None-Match": changed.headers["ETag"]})
    assert again.status_code == 304  # a change to another category leaves it be


def test_a_combined_feed_is_filed_under_each_categorys_key_and_names_no_hub(
    filed: Settings,
) -> None:
    client = create_app(filed.replace(hubs=(Hub("https://hub.example/"),))).test_client()
    combined = client.get("/feeds/category/science+tech.atom")
    single = client.get("/feeds/category/tech.atom")
    keys = set(combined.headers["Surrogate-Key"].split())
    assert set(single.headers["Surrogate-Key"].split()) < keys
    assert len(keys) == 3  # every feed's, science's and tech's
    root = etree.fromstring(combined.data)
    assert root.findall("a:link[@rel='hub']", namespaces=ATOM) == []
    assert "hub" not in combined.headers.get("Link", "")
    assert etree.fromstring(single.data).findall("a:link[@rel='hub']", namespaces=ATOM)


def test_the_pages_of_a_combined_feed_list_each_post_once(filed: Settings) -> None:
    client = create_app(filed.replace(items_per_feed=1)).test_client()
    path, seen = "/feeds/category/science+tech.atom", []
    while path:
        parsed = parse_feed(client.get(path).data)
        seen += [entry.title for entry in parsed.entries]
        nexts = [link.href for link in parsed.feed.links if link.rel == "next"]
        path = nexts[0].removeprefix(filed.base_url) if nexts else ""
    assert seen == ["tech in french", "both", "science only", "tech only"]


def test_a_deletion_in_two_combined_categories_is_one_tombstone(
    api: FlaskClient, api_settings: Settings, store: Store
) -> None:
    post_id = add_post(store, api_settings, slug="gone", categories=["science", "tech"])
    assert api.delete(f"/api/posts/{post_id}").status_code == 204
    root = etree.fromstring(create_app(api_settings).test_client().get(
        "/feeds/category/science+tech.atom").data)  # fmt: skip
    deleted = root.findall("{http://purl.org/atompub/tombstones/1.0}deleted-entry")
    assert len(deleted) == 1


def test_a_combined_feed_reads_each_categorys_index_and_never_the_whole_scope(
    filed: Settings, store: Store
) -> None:
    store.analyze()
    client = create_app(filed.replace(items_per_feed=2)).test_client()
    plans = explain(client, "/feeds/category/donjon+science+tech.atom")
    latest = next(plan for statement, plan in plans.items() if "UNION" in statement)
    if store.engine.dialect.name == "sqlite":
        walks = [step for step in latest if "scope_entries" in step]
        assert len(walks) == 3, latest
        assert all("(scope=? AND published<?)" in step for step in walks), latest
        assert not any(step.startswith("SCAN posts") for step in latest), latest
        assert not any(step.startswith("SCAN scope_entries") for step in latest), latest
    else:
        walks = [step for step in latest if "on scope_entries" in step]
        assert len(walks) == 3, latest
        assert all(step.startswith("Index") and "Backward" in step for step in walks), latest
        assert not any(step.startswith("Seq Scan") for step in latest), latest
    for statement, plan in plans.items():
        if "UNION" not in statement:
            assert not any("SCAN scope_entries" in s or "Seq Scan" in s for s in plan), plan


# --- the index ------------------------------------------------------------------------


def test_the_index_lists_tags_with_enough_posts_and_authors_with_any(filed: Settings) -> None:
    client = create_app(filed.replace(tag_feed_min_posts=2)).test_client()
    feeds = client.get("/feeds.json").get_json()["feeds"]
    listed = {(f["tag"], f["language"]) for f in feeds if f["tag"] and f["format"] == "atom"}
    # wallets: 3 posts (2 en, 1 fr); keys: 2 (1 en, 1 fr)
    assert listed == {("keys", None), ("wallets", None), ("wallets", "en")}
    authors = {(f["author"], f["language"]) for f in feeds if f["author"] and f["format"] == "rss"}
    assert authors == {
        ("ada-lovelace", None),
        ("ada-lovelace", "en"),
        ("grace-hopper", None),
        ("grace-hopper", "fr"),
    }
    assert not any("+" in feed["url"] for feed in feeds)
    tag_feed = next(f for f in feeds if f["tag"] == "wallets" and f["language"] == "en")
    assert tag_feed["scope"] == "tag+language"
    assert tag_feed["title"] == "Ledger Blog – #wallets (English)"


def test_a_scheduled_post_does_not_count_toward_listing_a_tag(
    store: Store, settings: Settings
) -> None:
    future = datetime.now(UTC) + timedelta(days=1)
    add_post(store, settings, slug="soon", tags=[TermInput("soon")], published=future)
    feeds = create_app(settings.replace(tag_feed_min_posts=1)).test_client().get("/feeds.json")
    assert not any(feed["tag"] == "soon" for feed in feeds.get_json()["feeds"])
