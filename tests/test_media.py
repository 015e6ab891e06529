"""A post's image and enclosures: taken by every way in, kept by the store, given by every
way out (the API, JSON Lines, Atom and RSS with Media RSS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from feeds.ingest.export import export_posts
from feeds.ingest.feed import FEED_IMPORTER
from feeds.ingest.jsonl import JSONL_IMPORTER
from feeds.ingest.wxr import WXR_IMPORTER
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import PostEnclosure
from tests.conftest import parse_feed
from tests.fixtures import exported, import_file, skips, stored_posts

PAST = "2024-01-01T09:00:00+00:00"
IMAGE = {
    "url": "https://cdn.example/cover.jpg",
    "alt": "A red bicycle",
    "width": 1200,
    "height": 630,
}
ENCLOSURES = [
    {"url": "https://cdn.example/episode-1.mp3", "type": "audio/mpeg", "length": 24986239},
    {"url": "https://cdn.example/episode-1.ogg", "type": "audio/ogg", "length": None},
]
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"


def new_post(api: FlaskClient, **fields: Any) -> dict[str, Any]:
    """Create a published post through the API; its JSON."""
    body = {"title": "Episode 1", "language": "en", "published": PAST} | fields
    response = api.post("/api/posts", json=body)
    assert response.status_code == 201, response.json
    return dict(response.json or {})


def enclosure_rows(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(PostEnclosure)) or 0


# --- the admin API ---------------------------------------------------------------------


def test_api_keeps_the_image_and_enclosures_in_order(api: FlaskClient) -> None:
    created = new_post(api, image=IMAGE, enclosures=ENCLOSURES)
    assert created["image"] == IMAGE
    assert created["enclosures"] == ENCLOSURES
    fetched = api.get(f"/api/posts/{created['id']}").json or {}
    assert (fetched["image"], fetched["enclosures"]) == (IMAGE, ENCLOSURES)


def test_a_post_without_media_says_so(api: FlaskClient) -> None:
    created = new_post(api)
    assert created["image"] is None
    assert created["enclosures"] == []


def test_optional_media_fields_may_be_left_out(api: FlaskClient) -> None:
    created = new_post(
        api,
        image={"url": "https://cdn.example/a.png"},
        enclosures=[{"url": "https://cdn.example/a.pdf", "type": "Application/PDF"}],
    )
    assert created["image"] == {
        "url": "https://cdn.example/a.png",
        "alt": "",
        "width": None,
        "height": None,
    }
    assert created["enclosures"] == [
        {"url": "https://cdn.example/a.pdf", "type": "application/pdf", "length": None}
    ]


def test_changing_the_media_is_a_change_and_sending_them_again_is_not(api: FlaskClient) -> None:
    created = new_post(api, image=IMAGE, enclosures=ENCLOSURES)
    path = f"/api/posts/{created['id']}"
    again = api.patch(path, json={"image": IMAGE, "enclosures": ENCLOSURES})
    assert again.status_code == 200
    assert again.json["updated"] == created["updated"]
    moved = api.patch(path, json={"enclosures": ENCLOSURES[::-1]})
    assert moved.json["updated"] != created["updated"]
    assert moved.json["enclosures"] == ENCLOSURES[::-1]
    resized = api.patch(path, json={"image": IMAGE | {"width": 600}})
    assert resized.json["updated"] != moved.json["updated"]


def test_put_without_media_removes_them(api: FlaskClient, store: Store) -> None:
    created = new_post(api, image=IMAGE, enclosures=ENCLOSURES)
    replaced = api.put(
        f"/api/posts/{created['id']}",
        json={"title": "Episode 1", "language": "en", "published": PAST},
    )
    assert replaced.status_code == 200, replaced.json
    assert (replaced.json["image"], replaced.json["enclosures"]) == (None, [])
    assert enclosure_rows(store) == 0


def test_fewer_enclosures_drop_the_last_ones(api: FlaskClient, store: Store) -> None:
    created = new_post(api, enclosures=ENCLOSURES)
    patched = api.patch(f"/api/posts/{created['id']}", json={"enclosures": ENCLOSURES[1:]})
    assert patched.json["enclosures"] == ENCLOSURES[1:]
    assert enclosure_rows(store) == 1


def test_deleting_a_post_deletes_its_enclosures(api: FlaskClient, store: Store) -> None:
    created = new_post(api, enclosures=ENCLOSURES)
    assert api.delete(f"/api/posts/{created['id']}").status_code == 204
    assert enclosure_rows(store) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"image": {"url": "/relative.jpg"}}, "image.url"),
        ({"image": {"url": "ftp://cdn.example/a.jpg"}}, "image.url"),
        ({"image": {"url": "javascript:alert(1)"}}, "image.url"),
        ({"image": {"url": "https://cdn.example/a b.jpg"}}, "image.url"),
        ({"image": {"url": "https://cdn.example/a\u0007.jpg"}}, "image.url"),
        ({"image": {"url": "https://cdn.example/" + "a" * 2000}}, "image.url"),
        ({"image": {"alt": "no url"}}, "image.url"),
        ({"image": "https://cdn.example/a.jpg"}, "image"),
        ({"image": {"url": "https://cdn.example/a.jpg", "size": 3}}, "image.size"),
        ({"image": {"url": "https://cdn.example/a.jpg", "width": -1}}, "image.width"),
        ({"image": {"url": "https://cdn.example/a.jpg", "height": "630"}}, "image.height"),
        ({"image": {"url": "https://cdn.example/a.jpg", "width": True}}, "image.width"),
        ({"image": {"url": "https://cdn.example/a.jpg", "width": 2**40}}, "image.width"),
        ({"image": {"url": "https://cdn.example/a.jpg", "alt": "x" * 1001}}, "image.alt"),
        ({"enclosures": {"url": "https://cdn.example/a.mp3"}}, "enclosures"),
        (
            {"enclosures": [ENCLOSURES[0], {"url": "a.mp3", "type": "audio/mpeg"}]},
            "enclosures[1].url",
        ),
        ({"enclosures": [{"url": "https://cdn.example/a.mp3"}]}, "enclosures[0].type"),
        (
            {"enclosures": [{"url": "https://cdn.example/a.mp3", "type": "mp3"}]},
            "enclosures[0].type",
        ),
        (
            {"enclosures": [{"url": "https://cdn.example/a.mp3", "type": "audio/mpeg; x=1"}]},
            "enclosures[0].type",
        ),
        (
            {
                "enclosures": [
                    {"url": "https://cdn.example/a.mp3", "type": "audio/mpeg", "length": -5}
                ]
            },
            "enclosures[0].length",
        ),
        (
            {
                "enclosures": [
                    {"url": "https://cdn.example/a.mp3", "type": "audio/mpeg", "length": 1.5}
                ]
            },
            "enclosures[0].length",
        ),
        ({"enclosures": ["https://cdn.example/a.mp3"]}, "enclosures[0]"),
        ({"enclosures": [ENCLOSURES[0]] * 21}, "enclosures"),
    ],
)
def test_bad_media_get_a_422_naming_the_field(
    api: FlaskClient, fields: dict[str, Any], field: str
) -> None:
    response = api.post(
        "/api/posts", json={"title": "Episode 1", "language": "en", "published": PAST} | fields
    )
    assert response.status_code == 422  # the API's answer to every invalid post
    body = response.json or {}
    assert body["field"] == field, body
    assert body["error"] and "\n" not in body["error"]


# --- the feeds -------------------------------------------------------------------------


def test_atom_carries_every_enclosure_and_the_image_as_media_rss(api: FlaskClient) -> None:
    new_post(api, image=IMAGE, enclosures=ENCLOSURES)
    body = api.get("/feeds/all.atom").data
    (entry,) = parse_feed(body).entries
    assert [(e.href, e.type, e.get("length")) for e in entry.enclosures] == [
        ("https://cdn.example/episode-1.mp3", "audio/mpeg", "24986239"),
        ("https://cdn.example/episode-1.ogg", "audio/ogg", None),
    ]
    _assert_media_rss(entry)
    (element,) = etree.fromstring(body).findall(f"{{{ATOM_NS}}}entry")
    links = element.findall(f"{{{ATOM_NS}}}link")
    assert [link.get("rel") for link in links] == ["alternate", "enclosure", "enclosure"]
    assert links[0].get("type") == "text/html"
    assert links[2].get("length") is None  # unknown: left out, as Atom allows
    _assert_media_elements(element)


def test_rss_carries_the_first_enclosure_and_the_image_as_media_rss(api: FlaskClient) -> None:
    new_post(api, image=IMAGE, enclosures=ENCLOSURES)
    body = api.get("/feeds/all.rss").data
    (entry,) = parse_feed(body).entries
    assert [(e.href, e.type, e.length) for e in entry.enclosures] == [
        ("https://cdn.example/episode-1.mp3", "audio/mpeg", "24986239")
    ]
    _assert_media_rss(entry)
    (item,) = etree.fromstring(body).iter("item")
    (enclosure,) = item.findall("enclosure")
    assert enclosure.attrib == {
        "url": "https://cdn.example/episode-1.mp3",
        "length": "24986239",
        "type": "audio/mpeg",
    }
    _assert_media_elements(item)


def test_rss_writes_an_unknown_length_as_zero(api: FlaskClient) -> None:
    new_post(api, enclosures=ENCLOSURES[1:])
    (item,) = etree.fromstring(api.get("/feeds/all.rss").data).iter("item")
    assert item.find("enclosure").get("length") == "0"


@pytest.mark.parametrize("path", ["/feeds/all.atom", "/feeds/all.rss"])
def test_a_feed_without_images_declares_no_media_namespace(api: FlaskClient, path: str) -> None:
    new_post(api, enclosures=ENCLOSURES)
    body = api.get(path).data
    assert MEDIA_NS.encode() not in body
    assert parse_feed(body).entries[0].enclosures


@pytest.mark.parametrize("path", ["/feeds/all.atom", "/feeds/all.rss"])
def test_an_image_without_size_or_alt_has_only_its_url(api: FlaskClient, path: str) -> None:
    new_post(api, image={"url": "https://cdn.example/a.png"})
    (entry,) = parse_feed(api.get(path).data).entries
    assert entry.media_content == [{"url": "https://cdn.example/a.png", "medium": "image"}]
    assert entry.media_thumbnail == [{"url": "https://cdn.example/a.png"}]


def _assert_media_rss(entry: Any) -> None:
    """The image as feedparser reads it: media:content, media:thumbnail, description."""
    assert entry.media_content == [
        {"url": IMAGE["url"], "medium": "image", "width": "1200", "height": "630"}
    ]
    assert entry.media_thumbnail == [{"url": IMAGE["url"], "width": "1200", "height": "630"}]


def _assert_media_elements(entry: etree._Element) -> None:
    """The image as MRSS elements, in their namespace, directly in the entry or item."""
    content = entry.find(f"{{{MEDIA_NS}}}content")
    assert content is not None
    assert (content.get("url"), content.get("medium")) == (IMAGE["url"], "image")
    description = content.find(f"{{{MEDIA_NS}}}description")
    assert description is not None
    assert (description.text, description.get("type")) == ("A red bicycle", "plain")
    thumbnail = entry.find(f"{{{MEDIA_NS}}}thumbnail")
    assert thumbnail is not None
    assert (thumbnail.get("width"), thumbnail.get("height")) == ("1200", "630")
    assert entry.find(f"{{{MEDIA_NS}}}group") is None


# --- JSON Lines ------------------------------------------------------------------------


def test_json_lines_carry_the_media_there_and_back(
    api: FlaskClient, settings: Settings, store: Store, tmp_path: Path
) -> None:
    new_post(api, image=IMAGE, enclosures=ENCLOSURES)
    new_post(api, title="No media")
    path = tmp_path / "export.jsonl"
    export_posts(store, settings, str(path))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["image"], line["enclosures"]) for line in lines] == [
        (IMAGE, ENCLOSURES),
        (None, []),
    ]
    other = settings.replace(database_url=f"sqlite:///{tmp_path / 'other.db'}")
    target = Store(other.database_url)
    target.create_schema()
    try:
        report = import_file(JSONL_IMPORTER, target, other, path)
        assert report.counts() == "created 2, updated 0, unchanged 0, skipped 0"
        assert [(p["image"], p["enclosures"]) for p in exported(target, other)] == [
            (IMAGE, ENCLOSURES),
            (None, []),
        ]
        again = import_file(JSONL_IMPORTER, target, other, path)
        assert again.counts() == "created 0, updated 0, unchanged 2, skipped 0"
    finally:
        target.dispose()


def test_a_json_line_with_a_bad_enclosure_is_skipped_naming_it(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    line = {"title": "T", "language": "en", "enclosures": [{"url": "x", "type": "audio/mpeg"}]}
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps(line) + "\n")
    report = import_file(JSONL_IMPORTER, store, settings, path)
    assert skips(report) == {"line 1": "enclosures[0].url: 'x' is not an absolute http(s) URL"}


# --- importing a feed ------------------------------------------------------------------

MEDIA_RSS = """<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Old</title><link>https://old.example/</link><language>en</language>
<item><title>One</title><link>https://old.example/2020/one/</link>
<guid>https://old.example/?p=1</guid><pubDate>Mon, 01 Jun 2020 10:00:00 GMT</pubDate>
<description>First.</description>
<enclosure url="/audio/one.mp3" length="1234" type="audio/mpeg"/>
<media:content url="https://old.example/video.mp4" type="video/mp4" fileSize="999"/>
<media:content url="cover.jpg" medium="image" width="800" height="600"/>
<media:thumbnail url="https://old.example/thumb.jpg" width="100" height="75"/>
</item>
<item><title>Two</title><link>https://old.example/2020/two/</link>
<guid>https://old.example/?p=2</guid><pubDate>Tue, 02 Jun 2020 10:00:00 GMT</pubDate>
<description>Second.</description>
<media:thumbnail url="thumb2.jpg"/>
<enclosure url="ftp://old.example/two.mp3" length="" type="audio/mpeg"/>
<enclosure url="https://old.example/two.pdf" length="" type=""/>
</item>
</channel></rss>
"""
MEDIA_ATOM = """<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>Old</title><id>urn:old</id>
<updated>2020-06-01T10:00:00Z</updated>
<entry><title>One</title><id>urn:old:1</id><updated>2020-06-01T10:00:00Z</updated>
<link rel="alternate" href="https://old.example/one/"/>
<link rel="enclosure" href="a.mp3" type="audio/mpeg" length="55"/>
<link rel="enclosure" href="https://old.example/b.pdf" type="application/pdf"/>
<content type="html">&lt;p&gt;Hello&lt;/p&gt;</content>
</entry></feed>
"""


def imported_media(store: Store, settings: Settings, tmp_path: Path, text: str) -> Any:
    """Import a feed file; the report, and the stored posts' image and enclosures by entry id."""
    path = tmp_path / "old.xml"
    path.write_text(text)
    report = import_file(FEED_IMPORTER, store, settings, path)
    media = {
        entry_id: (
            (post.image_url, post.image_alt, post.image_width, post.image_height),
            [(e.url, e.media_type, e.length) for e in post.enclosures],
        )
        for entry_id, post in stored_posts(store).items()
    }
    return report, media


def test_a_feed_import_takes_enclosures_media_content_and_thumbnails(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    report, media = imported_media(store, settings, tmp_path, MEDIA_RSS)
    assert media["https://old.example/?p=1"] == (
        ("https://old.example/2020/one/cover.jpg", "", 800, 600),  # media:content beats thumbnail
        [
            ("https://old.example/audio/one.mp3", "audio/mpeg", 1234),
            ("https://old.example/video.mp4", "video/mp4", 999),
        ],
    )
    assert media["https://old.example/?p=2"] == (
        ("https://old.example/2020/two/thumb2.jpg", "", None, None),
        [("https://old.example/two.pdf", "application/pdf", None)],  # type from the URL
    )
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 0, warnings 1"
    (warning,) = report.warnings
    assert warning.position == "item 2 (guid https://old.example/?p=2)"
    assert "'ftp://old.example/two.mp3' is not an absolute http(s) URL" in warning.reason
    again, _ = imported_media(store, settings, tmp_path, MEDIA_RSS)
    assert again.counts() == "created 0, updated 0, unchanged 2, skipped 0, warnings 1"


def test_an_atom_import_takes_each_enclosure_link(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    _report, media = imported_media(store, settings, tmp_path, MEDIA_ATOM)
    assert media["urn:old:1"] == (
        (None, None, None, None),
        [
            ("https://old.example/one/a.mp3", "audio/mpeg", 55),
            ("https://old.example/b.pdf", "application/pdf", None),
        ],
    )


def test_a_feed_import_keeps_the_first_enclosures_up_to_the_cap(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    many = "".join(f'<enclosure url="/{n}.mp3" length="1" type="audio/mpeg"/>' for n in range(25))
    report, media = imported_media(
        store, settings, tmp_path, MEDIA_RSS.replace("<description>First.</description>", many)
    )
    (_image, enclosures) = media["https://old.example/?p=1"]
    assert [url for url, _, _ in enclosures] == [f"https://old.example/{n}.mp3" for n in range(20)]
    assert report.warnings[0].reason == "enclosures past the first 20 not imported"


# --- importing a WordPress export ------------------------------------------------------


def wxr_item(post_id: int, post_type: str, *extra: str, title: str = "") -> str:
    meta = "".join(
        f"<wp:postmeta><wp:meta_key><![CDATA[{key}]]></wp:meta_key>"
        f"<wp:meta_value><![CDATA[{value}]]></wp:meta_value></wp:postmeta>"
        for key, value in (part.split("=", 1) for part in extra if "=" in part)
    )
    fields = "".join(part for part in extra if "=" not in part)
    url = f"https://wp.example/?p={post_id}"
    status = "inherit" if post_type == "attachment" else "publish"
    return f"""<item><title>{title or f"Item {post_id}"}</title>
<link>{url}</link><guid isPermaLink="false">{url}</guid><wp:post_id>{post_id}</wp:post_id>
<wp:post_date_gmt>2020-01-0{post_id % 9 + 1} 10:00:00</wp:post_date_gmt>
<wp:post_name>item-{post_id}</wp:post_name><wp:status>{status}</wp:status>
<wp:post_type>{post_type}</wp:post_type>{fields}{meta}</item>"""


METADATA = (
    'a:6:{s:5:"width";i:1600;s:6:"height";i:900;s:4:"file";s:15:"2020/01/cat.jpg";'
    's:8:"filesize";i:123456;s:5:"sizes";a:1:{s:6:"medium";a:4:{s:4:"file";s:15:"cat-300x169.jpg";'
    's:5:"width";i:300;s:6:"height";i:169;s:9:"mime-type";s:10:"image/jpeg";}}'
    's:10:"image_meta";a:0:{}}'
)
ATTACHMENT = wxr_item(
    3,
    "attachment",
    "<wp:attachment_url>https://wp.example/wp-content/uploads/2020/01/cat.jpg</wp:attachment_url>",
    "_wp_attachment_image_alt=A cat on a mat",
    f"_wp_attachment_metadata={METADATA}",
)


def wxr_export(*items: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>WP</title><link>https://wp.example</link><language>en-US</language>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://wp.example</wp:base_blog_url>
{"".join(items)}
</channel></rss>"""


def import_wxr(store: Store, settings: Settings, tmp_path: Path, text: str) -> Any:
    path = tmp_path / "export.xml"
    path.write_text(text)
    return import_file(WXR_IMPORTER, store, settings, path)


@pytest.mark.parametrize("attachment_first", [True, False])
def test_a_wordpress_post_takes_its_featured_image_and_enclosures(
    api: FlaskClient, store: Store, settings: Settings, tmp_path: Path, attachment_first: bool
) -> None:
    post = wxr_item(
        2,
        "post",
        "_thumbnail_id=3",
        "enclosure=https://wp.example/wp-content/uploads/show.mp3\n24986239\naudio/mpeg\n",
        "enclosure=/wp-content/uploads/notes.pdf\n\napplication/pdf\n",
        "enclosure=ftp://wp.example/old.mp3\n1\naudio/mpeg\n",
        "_edit_last=1",
        title="Podcast",
    )
    other = wxr_item(4, "post", title="Plain")
    items = [ATTACHMENT, post, other] if attachment_first else [post, other, ATTACHMENT]
    report = import_wxr(store, settings, tmp_path, wxr_export(*items))
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 1, warnings 1"
    position = f"item {1 if attachment_first else 3} (guid https://wp.example/?p=3)"
    assert skips(report) == {position: "post type 'attachment' (only posts are imported)"}
    assert "'ftp://wp.example/old.mp3' is not an absolute http(s) URL" in report.warnings[0].reason
    posts = {p["title"]: p for p in exported(store, settings)}
    assert set(posts) == {"Podcast", "Plain"}  # the attachment is no post
    assert posts["Podcast"]["image"] == {
        "url": "https://wp.example/wp-content/uploads/2020/01/cat.jpg",
        "alt": "A cat on a mat",
        "width": 1600,
        "height": 900,
    }
    assert posts["Podcast"]["enclosures"] == [
        {
            "url": "https://wp.example/wp-content/uploads/show.mp3",
            "type": "audio/mpeg",
            "length": 24986239,
        },
        {
            "url": "https://wp.example/wp-content/uploads/notes.pdf",
            "type": "application/pdf",
            "length": None,
        },
    ]
    assert (posts["Plain"]["image"], posts["Plain"]["enclosures"]) == (None, [])
    again = import_wxr(store, settings, tmp_path, wxr_export(*items))
    assert again.counts() == "created 0, updated 0, unchanged 2, skipped 1, warnings 1"
    (entry,) = [
        e for e in parse_feed(api.get("/feeds/all.rss").data).entries if e.title == "Podcast"
    ]
    assert entry.media_thumbnail[0]["url"].endswith("/cat.jpg")


def test_a_featured_image_without_its_attachment_or_size_is_left_out_or_unsized(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    unsized = wxr_item(
        5,
        "attachment",
        "<wp:attachment_url>https://wp.example/dog.png</wp:attachment_url>",
        '_wp_attachment_metadata=s:8:"not-an-a";',
    )
    items = [
        wxr_item(2, "post", "_thumbnail_id=99"),
        wxr_item(4, "post", "_thumbnail_id=5"),
        unsized,
    ]
    report = import_wxr(store, settings, tmp_path, wxr_export(*items))
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 1"
    images = {p["title"]: p["image"] for p in exported(store, settings)}
    assert images == {
        "Item 2": None,
        "Item 4": {"url": "https://wp.example/dog.png", "alt": "", "width": None, "height": None},
    }
