"""Importing an existing RSS or Atom feed, from a file or over HTTP: readers of the old feed
must see the same entry ids in the new one."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from feeds.ingest.feed import FEED_IMPORTER
from feeds.ingest.runner import ImportFailed, ImportOptions, ImportReport
from feeds.ingest.source import open_source
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import parse_feed
from tests.fixtures import (
    ATOM,
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    FIXTURES,
    RSS,
    WXR,
    import_file,
    post_count,
    skips,
    stored_posts,
)

ROCK = "tag:old.example.org,2023:post-17"
ARABIC = "https://old.example.org/ar/2023/12/%D9%85%D9%82%D8%A7%D9%84%D8%A9/"
CHINESE = "tag:old.example.org,2024:post-19"
HELLO = "https://old.example.org/2019/01/hello/"
CAFE = "urn:uuid:5e1c3e3a-0b1f-4d8b-9f4e-2f6a3f0c1a0"  # + the entry's number


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fixture_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving tests/fixtures; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(FIXTURES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def rss_file(tmp_path: Path, items: str, doctype: str = "") -> Path:
    """A small English RSS feed holding ``items``, after an optional DOCTYPE."""
    path = tmp_path / "small.rss"
    path.write_text(
        f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><title>t</title>'
        f"<link>https://n.example/</link><language>en</language>{items}</channel></rss>",
        encoding="utf-8",
    )
    return path


def import_url(store: Store, settings: Settings, url: str) -> ImportReport:
    """Import a feed from a URL on this machine (import_allow_private_addresses)."""
    local = settings.replace(import_allow_private_addresses=True)
    with open_source(url, allow_url=True, settings=local) as source:
        return FEED_IMPORTER.run(store, local, source, ImportOptions())


def feed_ids(client: FlaskClient, path: str) -> set[str]:
    return {entry.id for entry in parse_feed(client.get(path).data).entries}


def test_rss_items_keep_their_guid_as_id_in_the_new_feeds(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(FEED_IMPORTER, store, settings, RSS)
    assert feed_ids(client, "/feeds/all.rss") == {ROCK, ARABIC, CHINESE, HELLO}
    assert feed_ids(client, "/feeds/all.atom") == {ROCK, ARABIC, CHINESE, HELLO}


def test_an_rss_item_keeps_its_date_categories_author_and_safe_content(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(FEED_IMPORTER, store, settings, RSS)
    [entry] = parse_feed(client.get("/feeds/category/music-culture.atom").data).entries
    assert entry.title == "Rock & roll “forever”"
    assert entry.published_parsed[:6] == (2023, 11, 10, 17, 30, 0)  # +0100 → UTC
    assert {(t.term, t.label) for t in entry.tags} == {
        ("music-culture", "Music & Culture"),
        ("live", "Live"),
    }
    assert entry.author == "Jane Doe"
    post = stored_posts(store)[ROCK]
    assert post.slug == "rock-and-roll"  # the last segment of the old link
    assert post.summary == "A night of loud guitars."
    assert 'src="https://old.example.org/images/stage.jpg"' in post.content_html
    assert 'href="https://old.example.org/2023/10/tour-dates/"' in post.content_html
    assert "script" not in post.content_html and "onclick" not in post.content_html


def test_entries_in_other_languages_go_to_their_language_feeds(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(FEED_IMPORTER, store, settings, RSS)
    assert feed_ids(client, "/ar/feeds/all.rss") == {ARABIC}
    assert feed_ids(client, "/zh-hans/feeds/all.atom") == {CHINESE}
    assert feed_ids(client, "/en/feeds/all.atom") == {ROCK, HELLO}
    posts = stored_posts(store)
    assert posts[ARABIC].slug == "مقالة"
    assert [(c.slug, c.name) for c in posts[CHINESE].categories] == [("科技", "科技")]


def test_an_item_without_a_date_and_a_repeated_guid_are_skipped_with_reasons(
    store: Store, settings: Settings
) -> None:
    report = import_file(FEED_IMPORTER, store, settings, RSS)
    assert report.counts() == "created 4, updated 0, unchanged 0, skipped 2"
    assert skips(report) == {
        "item 4 (guid tag:old.example.org,2024:post-20)": "no date",
        f"item 5 (guid {ROCK})": "the same id as item 1",
    }
    assert stored_posts(store)[ROCK].title == "Rock & roll “forever”"  # the first one


def test_atom_entries_keep_ids_dates_labels_and_their_own_language(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    report = import_file(FEED_IMPORTER, store, settings, ATOM)
    assert skips(report) == {
        f"entry 4 (id {CAFE}4)": "no date",
        f"entry 5 (id {CAFE}1)": "the same id as entry 1",
        f"entry 6 (id {CAFE}6)": "language 'sw' is not configured",
    }
    assert feed_ids(client, "/feeds/category/food.atom") == {f"{CAFE}1", f"{CAFE}2", f"{CAFE}3"}
    assert feed_ids(client, "/ar/feeds/all.atom") == {f"{CAFE}2"}
    assert feed_ids(client, "/ja/feeds/all.atom") == {f"{CAFE}3"}
    cafe = stored_posts(store)[f"{CAFE}1"]
    assert cafe.title == "Café & <code> review"  # type="html", entities decoded once
    assert cafe.language == "en"  # xml:lang="en-GB" on the feed
    assert cafe.published == datetime(2023, 5, 1, 7, 0, tzinfo=UTC)
    assert cafe.updated == datetime(2023, 6, 1, 10, 0, tzinfo=UTC)
    assert [(c.slug, c.name) for c in cafe.categories] == [
        ("food", "Food & Drink"),
        ("reviews", "Reviews"),
    ]
    assert [(a.name, a.uri) for a in cafe.authors] == [
        ("Ana Souza", "https://atom.example.net/ana")
    ]
    assert cafe.summary == "A café, reviewed."
    arabic = stored_posts(store)[f"{CAFE}2"]
    assert arabic.published == datetime(2023, 7, 2, 8, 0, tzinfo=UTC)  # only <updated>
    assert arabic.content_html == "<p>قهوة <strong>ممتازة</strong>.</p>"  # type="xhtml"
    assert arabic.summary == "قهوة ممتازة."  # derived, not the content's HTML


def test_importing_the_same_feed_again_changes_nothing(store: Store, settings: Settings) -> None:
    import_file(FEED_IMPORTER, store, settings, RSS)
    report = import_file(FEED_IMPORTER, store, settings, RSS)
    assert report.counts() == "created 0, updated 0, unchanged 4, skipped 2"
    assert post_count(store) == 4


def test_a_dry_run_writes_nothing(store: Store, settings: Settings) -> None:
    report = import_file(FEED_IMPORTER, store, settings, ATOM, dry_run=True)
    assert report.counts() == "created 3, updated 0, unchanged 0, skipped 3"
    assert post_count(store) == 0


def test_strict_import_aborts_at_the_undated_item(store: Store, settings: Settings) -> None:
    with pytest.raises(ImportFailed) as failure:
        import_file(FEED_IMPORTER, store, settings, RSS, strict=True)
    assert str(failure.value) == (
        "item 4 (guid tag:old.example.org,2024:post-20): no date; nothing was imported (--strict)"
    )
    assert post_count(store) == 0


def test_a_feed_is_imported_by_url_from_a_real_server(
    store: Store, settings: Settings, client: FlaskClient, fixture_server: str
) -> None:
    report = import_url(store, settings, f"{fixture_server}/old-site.rss")
    assert report.counts() == "created 4, updated 0, unchanged 0, skipped 2"
    assert feed_ids(client, "/feeds/all.atom") == {ROCK, ARABIC, CHINESE, HELLO}
    report = import_file(FEED_IMPORTER, store, settings, RSS)  # the same feed, as a file
    assert report.unchanged == 4


def test_an_unreachable_url_gives_a_clear_message(
    store: Store, settings: Settings, fixture_server: str
) -> None:
    with pytest.raises(ImportFailed) as failure:
        import_url(store, settings, f"{fixture_server}/missing.rss")
    assert (
        str(failure.value) == f"cannot fetch {fixture_server}/missing.rss: HTTP 404 File not found"
    )
    closed = ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    port = closed.server_port
    closed.server_close()
    with pytest.raises(ImportFailed, match=f"cannot fetch http://127.0.0.1:{port}/feed: "):
        import_url(store, settings, f"http://127.0.0.1:{port}/feed")


@pytest.mark.parametrize(
    ("hostile", "entity"), [(BILLION_LAUGHS, "lol"), (EXTERNAL_ENTITY, "secret")]
)
def test_hostile_xml_is_refused(
    store: Store, settings: Settings, hostile: Path, entity: str
) -> None:
    with pytest.raises(ImportFailed) as failure:
        import_file(FEED_IMPORTER, store, settings, hostile)
    assert str(failure.value) == (
        f"{hostile}: refused: the XML declares the entity {entity!r}, and XML entities can "
        "expand without bound (billion laughs) or read local files (external entities)"
    )
    assert post_count(store) == 0


def test_hostile_xml_is_refused_over_http_too(
    store: Store, settings: Settings, fixture_server: str
) -> None:
    with pytest.raises(ImportFailed, match="refused: the XML declares the entity 'lol'"):
        import_url(store, settings, f"{fixture_server}/billion-laughs.xml")


def test_a_doctype_without_entities_is_accepted(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """RSS 0.91 feeds carry Netscape's DOCTYPE; only entity declarations are dangerous."""
    path = rss_file(
        tmp_path,
        "<item><title>Old</title><link>https://n.example/old</link>"
        "<pubDate>Mon, 01 Jan 2001 00:00:00 GMT</pubDate></item>",
        doctype='<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">',
    )
    report = import_file(FEED_IMPORTER, store, settings, path)
    assert report.created == 1
    assert stored_posts(store)["https://n.example/old"].slug == "old"  # no guid: the link


def test_a_feed_without_a_language_needs_the_language_option(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "nolang.rss"
    path.write_text(
        RSS.read_text(encoding="utf-8").replace("<language>en-us</language>", ""),
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as failure:
        import_file(FEED_IMPORTER, store, settings, path)
    assert str(failure.value).startswith(
        f"{path} does not say its language: pass --language (one of en, ar,"
    )
    report = import_file(FEED_IMPORTER, store, settings, path, language="fr")
    assert report.created == 4
    assert {p.language for p in stored_posts(store).values()} == {"fr"}


def test_what_is_not_a_feed_is_refused(store: Store, settings: Settings, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("just some notes\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match=f"^{text} is not an RSS or Atom feed"):
        import_file(FEED_IMPORTER, store, settings, text)
    with pytest.raises(ImportFailed, match="is a WordPress export: use `feeds import wxr`"):
        import_file(FEED_IMPORTER, store, settings, WXR)
    with pytest.raises(ImportFailed, match=r"cannot read .*: No such file or directory"):
        import_file(FEED_IMPORTER, store, settings, tmp_path / "none.rss")


def test_an_id_that_is_not_a_uri_is_skipped_with_the_reason(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """RSS allows any string as a guid; an Atom id, and so an entry id, must be a URI."""
    path = rss_file(
        tmp_path,
        '<item><title>Numbered</title><guid isPermaLink="false">12345</guid>'
        "<link>https://n.example/numbered</link>"
        "<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>",
    )
    report = import_file(FEED_IMPORTER, store, settings, path)
    assert skips(report) == {
        "item 1 (guid 12345)": "entry_id: must be an absolute URI (tag:, urn:, http:…)"
    }


def test_an_entry_with_a_relative_link_imports_and_its_content_is_cleaned(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """A relative link cannot be the base of the content's links: the post's new page is."""
    feed = tmp_path / "relative.rss"
    feed.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Old</title>'
        "<link>https://old.example/</link><description>d</description><language>en</language>"
        "<item><title>Hello</title><link>/relative/</link><guid>tag:old.example,2024:1</guid>"
        "<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate>"
        '<description>&lt;p&gt;&lt;a href="/x"&gt;x&lt;/a&gt;&lt;script&gt;1&lt;/script&gt;'
        "&lt;/p&gt;</description></item></channel></rss>",
        encoding="utf-8",
    )
    report = import_file(FEED_IMPORTER, store, settings, feed)
    assert report.counts() == "created 1, updated 0, unchanged 0, skipped 0"
    post = stored_posts(store)["tag:old.example,2024:1"]
    assert "script" not in post.content_html
    assert 'href="https://' in post.content_html
