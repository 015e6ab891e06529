"""Importing a WordPress export: what readers then see in the feeds, and what is skipped."""

from __future__ import annotations

import html
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feeds.ingest.feed import FEED_IMPORTER
from feeds.ingest.runner import ImportFailed
from feeds.ingest.source import open_source
from feeds.ingest.wxr import WXR_IMPORTER, wxr_records
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import PostStatus, StoreMeta
from tests.conftest import add_post, parse_feed
from tests.fixtures import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    RSS,
    WXR,
    import_file,
    post_count,
    skips,
    stored_posts,
)

OLD = "https://oldblog.example.com"
PUBLIC = {f"{OLD}/?p=101", f"{OLD}/?p=102", f"{OLD}/?p=106", f"{OLD}/?p=107"}
NOT_PUBLIC = {f"{OLD}/?p={n}" for n in (103, 104, 108, 109, 110)}


def wxr_file(tmp_path: Path, items: str, language: str = "en-US") -> Path:
    """A small WordPress export holding ``items``."""
    path = tmp_path / "small.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><language>{language}</language><wp:wxr_version>1.2</wp:wxr_version>"
        f"{items}</channel></rss>",
        encoding="utf-8",
    )
    return path


def item(number: int, date_gmt: str = "2024-01-02 03:04:05", title: str = "A post") -> str:
    return (
        f"<item><title>{title}</title><guid>https://wp.example/?p={number}</guid>"
        f"<wp:post_name>post-{number}</wp:post_name><wp:status>publish</wp:status>"
        f"<wp:post_type>post</wp:post_type><wp:post_date_gmt>{date_gmt}</wp:post_date_gmt>"
        "<content:encoded><![CDATA[<p>Body</p>]]></content:encoded></item>"
    )


def test_published_posts_appear_in_feeds_with_their_wordpress_guid_as_id(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    feed = parse_feed(client.get("/feeds/all.atom").data)
    assert {entry.id for entry in feed.entries} == PUBLIC
    rss = parse_feed(client.get("/feeds/all.rss").data)
    assert {entry.id for entry in rss.entries} == PUBLIC


def test_an_entry_keeps_title_dates_categories_tags_and_author(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    feed = parse_feed(client.get("/feeds/category/food-drink.atom").data)
    [entry] = feed.entries
    assert entry.title == "Fish & Chips: a “proper” guide"
    # wp:post_date_gmt and wp:post_modified_gmt, not the blog's local time
    assert entry.published_parsed[:6] == (2019, 5, 1, 8, 30, 0)
    assert entry.updated_parsed[:6] == (2019, 5, 2, 10, 0, 0)
    terms = {(tag.term, tag.label) for tag in entry.tags}
    assert terms == {("food-drink", "Food & Drink"), ("recipes", "Recipes"), ("uk", "UK")}
    assert entry.author == "Alice Martin"  # her display name; her private e-mail stays out
    assert html.unescape(entry.summary) == "Thick chips, fried twice & served hot."
    assert entry.link == "https://www.ledger.com/blog/fish-and-chips"


def test_content_links_are_made_absolute_against_the_old_site_and_scripts_removed(
    store: Store, settings: Settings
) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    content = stored_posts(store)[f"{OLD}/?p=101"].content_html
    assert f'src="{OLD}/wp-content/uploads/2019/05/chips.jpg"' in content
    assert f'href="{OLD}/2019/04/batter/"' in content
    assert "<script" not in content and "alert" not in content
    assert "wp:paragraph" not in content


def test_classic_editor_paragraphs_become_html_paragraphs(store: Store, settings: Settings) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    post = stored_posts(store)[f"{OLD}/?p=102"]
    assert post.content_html.startswith("<p>Your keys never leave the device.</p>")
    assert "classic editor,<br>" in post.content_html
    assert post.summary.startswith("Your keys never leave the device. A second paragraph")


def test_drafts_private_protected_and_scheduled_posts_are_kept_out_of_feeds(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    posts = stored_posts(store)
    draft = posts[f"{OLD}/?p=103"]  # post_date_gmt 0000-00-00 00:00:00
    assert (draft.status, draft.published, draft.slug) == (
        PostStatus.DRAFT,
        None,
        "notes-for-a-later-post",  # a draft has no post_name yet: derived from the title
    )
    for number in (108, 109, 110):  # private, password-protected, pending
        assert posts[f"{OLD}/?p={number}"].status is PostStatus.DRAFT
    scheduled = posts[f"{OLD}/?p=104"]
    assert scheduled.status is PostStatus.PUBLISHED
    assert scheduled.published == datetime(2099, 1, 1, 9, 0, tzinfo=UTC)
    for path in (
        "/feeds/all.atom",
        "/feeds/category/tech.rss",
        "/feeds/category/uncategorized.atom",
    ):
        ids = {entry.id for entry in parse_feed(client.get(path).data).entries}
        assert not ids & NOT_PUBLIC, path


def test_pages_attachments_menu_items_and_trash_are_skipped_with_reasons(
    store: Store, settings: Settings
) -> None:
    report = import_file(WXR_IMPORTER, store, settings, WXR)
    assert report.counts() == "created 9, updated 0, unchanged 0, skipped 4"
    assert skips(report) == {
        f"item 3 (guid {OLD}/?page_id=2)": "post type 'page' (only posts are imported)",
        f"item 4 (guid {OLD}/wp-content/uploads/2019/05/chips.jpg)": (
            "post type 'attachment' (only posts are imported)"
        ),
        f"item 5 (guid {OLD}/?p=5)": "post type 'nav_menu_item' (only posts are imported)",
        f"item 8 (guid {OLD}/?p=105)": "in the trash",
    }
    assert f"{OLD}/?p=105" not in stored_posts(store)


def test_arabic_and_japanese_posts_keep_their_language_and_decoded_slug(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    posts = stored_posts(store)
    arabic, japanese = posts[f"{OLD}/?p=106"], posts[f"{OLD}/?p=107"]
    assert (arabic.language, arabic.slug) == ("ar", "مرحبا-بالعالم")
    assert [(c.slug, c.name) for c in arabic.categories] == [("أخبار", "أخبار")]
    assert (japanese.language, japanese.slug) == ("ja", "こんにちは")
    [entry] = parse_feed(client.get("/ar/feeds/all.atom").data).entries
    assert (entry.id, entry.title) == (f"{OLD}/?p=106", "مرحبا بالعالم")
    assert 'dir="rtl"' in entry.content[0].value
    [entry] = parse_feed(client.get("/ja/feeds/category/tech.rss").data).entries
    assert entry.title == "こんにちは、世界"


def test_importing_the_same_export_again_changes_nothing(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    before = client.get("/feeds/all.atom")
    report = import_file(WXR_IMPORTER, store, settings, WXR)
    assert report.counts() == "created 0, updated 0, unchanged 9, skipped 4"
    assert post_count(store) == 9
    assert client.get("/feeds/all.atom").headers["ETag"] == before.headers["ETag"]


def test_a_post_changed_in_wordpress_is_updated_under_the_same_id(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    import_file(WXR_IMPORTER, store, settings, WXR)
    changed = tmp_path / "changed.xml"
    changed.write_text(
        WXR.read_text(encoding="utf-8")
        .replace("Why a hardware wallet?", "Why a hardware wallet, really?")
        .replace(
            "2020-01-14 16:45:10]]></wp:post_modified_gmt>",
            "2024-03-01 12:00:00]]></wp:post_modified_gmt>",
        ),
        encoding="utf-8",
    )
    report = import_file(WXR_IMPORTER, store, settings, changed)
    assert report.counts() == "created 0, updated 1, unchanged 8, skipped 4"
    post = stored_posts(store)[f"{OLD}/?p=102"]
    assert post.title == "Why a hardware wallet, really?"
    assert post.updated == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_a_slug_another_post_holds_gives_way_and_stays_stable(
    store: Store, settings: Settings
) -> None:
    add_post(store, settings, slug="fish-and-chips", entry_id="urn:uuid:already-here")
    import_file(WXR_IMPORTER, store, settings, WXR)
    assert stored_posts(store)[f"{OLD}/?p=101"].slug == "fish-and-chips-2"
    report = import_file(WXR_IMPORTER, store, settings, WXR)
    assert report.updated == 0
    assert stored_posts(store)[f"{OLD}/?p=101"].slug == "fish-and-chips-2"
    assert stored_posts(store)["urn:uuid:already-here"].slug == "fish-and-chips"


def test_the_store_remembers_a_wordpress_import_and_redirects_old_feed_urls(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    assert client.get("/feed/").status_code == 404
    import_file(WXR_IMPORTER, store, settings, WXR)
    with store.session() as session:
        assert session.get(StoreMeta, "wordpress_imported").value == "yes"  # type: ignore[union-attr]
    response = client.get("/feed/")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/feeds/all.rss")


def test_a_dry_run_reports_everything_and_writes_nothing(store: Store, settings: Settings) -> None:
    report = import_file(WXR_IMPORTER, store, settings, WXR, dry_run=True)
    assert report.counts() == "created 9, updated 0, unchanged 0, skipped 4"
    assert post_count(store) == 0
    with store.session() as session:
        assert session.get(StoreMeta, "wordpress_imported") is None


def test_a_post_without_a_date_is_skipped_and_the_rest_imported(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = wxr_file(tmp_path, item(1) + item(2, date_gmt="0000-00-00 00:00:00") + item(3))
    report = import_file(WXR_IMPORTER, store, settings, path)
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 1"
    assert skips(report) == {
        "item 2 (guid https://wp.example/?p=2)": (
            "no date: neither wp:post_date_gmt nor pubDate gives one"
        )
    }


def test_strict_import_stops_at_the_first_bad_post_and_writes_nothing(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = wxr_file(tmp_path, item(1) + item(2, date_gmt="0000-00-00 00:00:00") + item(3))
    with pytest.raises(ImportFailed) as failure:
        import_file(WXR_IMPORTER, store, settings, path, strict=True, batch_size=1)
    assert str(failure.value) == (
        "item 2 (guid https://wp.example/?p=2): no date: neither wp:post_date_gmt nor pubDate "
        "gives one; nothing was imported (--strict)"
    )
    assert post_count(store) == 0


def test_batches_are_committed_as_the_import_goes(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """A file that breaks after two batches keeps them, and says so."""
    items = "".join(item(n) for n in range(1, 6))
    path = wxr_file(tmp_path, items + "<item><title>cut off")
    path.write_text(path.read_text(encoding="utf-8").split("</channel>")[0], encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        import_file(WXR_IMPORTER, store, settings, path, batch_size=2)
    assert "is not well-formed XML" in str(failure.value)
    assert "the first 4 records were committed before it; importing the file again is safe" in str(
        failure.value
    )
    assert post_count(store) == 4


@pytest.mark.parametrize(
    ("hostile", "declared"),
    [(BILLION_LAUGHS, "<!DOCTYPE rss>"), (EXTERNAL_ENTITY, "<!DOCTYPE rss>")],
)
def test_hostile_xml_is_refused_before_anything_is_expanded(
    store: Store, settings: Settings, hostile: Path, declared: str
) -> None:
    with pytest.raises(ImportFailed) as failure:
        import_file(WXR_IMPORTER, store, settings, hostile)
    message = str(failure.value)
    assert message.startswith(f"{hostile}: refused: the XML declares a document type ({declared})")
    assert "billion laughs" in message and "external entities" in message
    assert post_count(store) == 0


def test_control_characters_wordpress_exports_carry_are_dropped(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = wxr_file(tmp_path, item(1, title="Bell\x07 and tab\x0b"))
    report = import_file(WXR_IMPORTER, store, settings, path)
    assert report.created == 1
    assert stored_posts(store)["https://wp.example/?p=1"].title == "Bell and tab"


def test_language_comes_from_the_channel_or_the_language_option(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    import_file(WXR_IMPORTER, store, settings, wxr_file(tmp_path, item(1), language="fr-FR"))
    assert stored_posts(store)["https://wp.example/?p=1"].language == "fr"
    import_file(WXR_IMPORTER, store, settings, WXR, language="de")
    assert {p.language for p in stored_posts(store).values() if p.entry_id.startswith(OLD)} == {
        "de"
    }


def test_an_unconfigured_language_is_refused(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = wxr_file(tmp_path, item(1), language="sw")
    with pytest.raises(ImportFailed) as failure:
        import_file(WXR_IMPORTER, store, settings, path)
    assert str(failure.value).startswith(
        f"{path} is in 'sw', which is not configured (languages: en, ar,"
    )
    with pytest.raises(ImportFailed, match="--language 'xx' is not configured"):
        import_file(WXR_IMPORTER, store, settings, WXR, language="xx")
    assert post_count(store) == 0


def test_a_feed_is_not_taken_for_a_wordpress_export(store: Store, settings: Settings) -> None:
    with pytest.raises(ImportFailed, match=r"is not a WordPress export .* use `feeds import feed`"):
        import_file(WXR_IMPORTER, store, settings, RSS)


def test_memory_does_not_grow_with_the_export(settings: Settings, tmp_path: Path) -> None:
    """Reading a 3,000-post export holds one item at a time, not the file."""
    body = "<p>" + "Lorem ipsum dolor sit amet. " * 150 + "</p>"
    items = "".join(item(n).replace("<p>Body</p>", body) for n in range(3000))
    path = wxr_file(tmp_path, items)
    size = path.stat().st_size
    tracemalloc.start()
    with open_source(str(path)) as source:
        count = sum(1 for _ in wxr_records(source, settings, None))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 3000
    assert size > 12_000_000
    assert peak < size / 20, f"peak {peak} bytes for a file of {size}"


@pytest.mark.parametrize(
    ("wp", "excerpt"),
    [
        ("http://wordpress.org/export/1.0/", "http://wordpress.org/export/1.0/excerpt/"),
        ("http://wordpress.org/export/1.1/", "http://wordpress.org/export/1.1/excerpt/"),
        ("http://wordpress.org/export/1.2/", "http://wordpress.org/export/1.2/excerpt/"),
        # WordPress's own theme unit test data
        ("https://wordpress.org/export/1.2/", "https://wordpress.org/export/1.2/excerpt/"),
        ("urn:example:wordpress", "urn:example:excerpt"),
    ],
    ids=["1.0", "1.1", "1.2", "1.2-https", "any-uri"],
)
def test_an_export_imports_under_whatever_uris_it_binds_to_wp_and_excerpt(
    store: Store, settings: Settings, tmp_path: Path, wp: str, excerpt: str
) -> None:
    path = tmp_path / "export.xml"
    version = wp.rstrip("/").rsplit("/", 1)[-1] if "wordpress.org" in wp else "1.2"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:excerpt="{excerpt}" xmlns:wp="{wp}"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><language>en</language><wp:wxr_version>{version}</wp:wxr_version>"
        "<wp:author><wp:author_login>ada</wp:author_login>"
        "<wp:author_display_name>Ada L.</wp:author_display_name></wp:author>"
        f"{item(1).replace('</item>', '')}"
        "<excerpt:encoded><![CDATA[The excerpt.]]></excerpt:encoded><dc:creator>ada</dc:creator>"
        '<category domain="category" nicename="news"><![CDATA[News]]></category></item>'
        f"{item(2).replace('<wp:status>publish', '<wp:status>draft')}"
        "</channel></rss>",
        encoding="utf-8",
    )
    report = import_file(WXR_IMPORTER, store, settings, path)
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 0"
    posts = stored_posts(store)
    first, second = posts["https://wp.example/?p=1"], posts["https://wp.example/?p=2"]
    assert (first.slug, first.status, first.summary) == (
        "post-1",
        PostStatus.PUBLISHED,
        "The excerpt.",
    )
    assert first.published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert [c.slug for c in first.categories] == ["news"]
    assert [a.name for a in first.authors] == ["Ada L."]
    assert second.status is PostStatus.DRAFT


def test_an_export_under_https_uris_given_to_import_feed_is_sent_to_import_wxr(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "export.xml"
    path.write_text(
        WXR.read_text(encoding="utf-8").replace(
            "http://wordpress.org/export/1.2/", "https://wordpress.org/export/1.2/"
        ),
        encoding="utf-8",
    )
    assert import_file(WXR_IMPORTER, store, settings, path).created == 9
    with pytest.raises(ImportFailed, match="is a WordPress export: use `feeds import wxr`"):
        import_file(FEED_IMPORTER, store, settings, path)
