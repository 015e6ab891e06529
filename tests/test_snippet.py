"""Autodiscovery snippets: `feeds snippet` and /feeds/snippet.html, read with lxml.html, and
every link they give fetched through the app."""

from __future__ import annotations

import lxml.html
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from feeds.cli import main
from feeds.serving.spec import SYNDICATION_FORMATS
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import BASE_URL, REPO, add_post, feed_title_and_ids

MEDIA_TYPES = {fmt.mime_type: fmt for fmt in SYNDICATION_FORMATS}


def snippet(settings: Settings, *options: str) -> tuple[int, str]:
    """`feeds snippet OPTIONS` on the store of ``settings``: exit code and output."""
    env = {
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": settings.database_url,
        "FEEDS_BASE_URL": BASE_URL,
    }
    result = CliRunner().invoke(main, ["snippet", *options], env=env, prog_name="feeds")
    return result.exit_code, result.output


def links_of(html: str) -> list[lxml.html.HtmlElement]:
    return [
        element for element in lxml.html.fragments_fromstring(html.strip()) if element.tag == "link"
    ]


def assert_links_lead_to_their_feeds(
    client: FlaskClient, html: str, path_prefix: str, language: str | None
) -> list[str]:
    """Each format once, each link fetchable (200, its format) with the title of the feed it
    points to; the feeds' titles."""
    links = links_of(html)
    assert len(html.strip().splitlines()) == len(links) == len(SYNDICATION_FORMATS)
    assert {link.get("type") for link in links} == set(MEDIA_TYPES)
    titles = []
    for link in links:
        assert link.get("rel") == "alternate"
        assert link.get("hreflang") == language
        fmt = MEDIA_TYPES[link.get("type")]
        assert link.get("href") == f"{BASE_URL}{path_prefix}.{fmt.value}"
        response = client.get(link.get("href").removeprefix(BASE_URL))
        assert response.status_code == 200
        assert response.content_type == fmt.media_type
        assert link.get("title") == feed_title_and_ids(response.data)[0]
        titles.append(link.get("title"))
    return titles


def test_home_page_snippet_links_the_site_feeds(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    code, output = snippet(demo_settings)
    assert code == 0, output
    titles = assert_links_lead_to_their_feeds(demo_client, output, "/feeds/all", None)
    assert set(titles) == {demo_settings.site_title}


def test_category_page_in_one_language(demo_client: FlaskClient, demo_settings: Settings) -> None:
    code, output = snippet(demo_settings, "--category", "tech", "--language", "fr")
    assert code == 0, output
    titles = assert_links_lead_to_their_feeds(demo_client, output, "/fr/feeds/category/tech", "fr")
    assert set(titles) == {"Ledger Blog – Tech (Français)"}


def test_language_home_and_category_pages(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    for options, prefix, language in (
        (["--language", "ar"], "/ar/feeds/all", "ar"),
        (["--category", "donjon"], "/feeds/category/donjon", None),
    ):
        code, output = snippet(demo_settings, *options)
        assert code == 0, output
        assert_links_lead_to_their_feeds(demo_client, output, prefix, language)


def test_tag_and_author_pages(demo_client: FlaskClient, demo_settings: Settings) -> None:
    feeds = demo_client.get("/feeds.json").get_json()["feeds"]
    for kind in ("tag", "author"):
        slug = next(feed[kind] for feed in feeds if feed[kind] is not None)
        code, output = snippet(demo_settings, f"--{kind}", slug)
        assert code == 0, output
        assert_links_lead_to_their_feeds(demo_client, output, f"/feeds/{kind}/{slug}", None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--category", "nope"], "unknown category 'nope'"),
        (["--tag", "nope"], "unknown tag 'nope'"),
        (["--author", "nope"], "unknown author 'nope'"),
        (["--language", "xx"], "unknown language 'xx'"),
        (["--category", "tech+donjon"], "unknown category 'tech+donjon'"),
        (["--category", "tech", "--tag", "ledger"], "give one of --category, --tag, --author"),
    ],
)
def test_unknown_names_are_one_error_line(
    demo_settings: Settings, options: list[str], message: str
) -> None:
    code, output = snippet(demo_settings, *options)
    assert code == 1, output
    lines = output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], output


def test_hostile_names_are_escaped(api: FlaskClient, settings: Settings, store: Store) -> None:
    name = '"><script>alert(1)</script> & <img onerror=x>'
    api.post("/api/categories", json={"slug": "evil", "name": name})
    add_post(store, settings, categories=["evil"])
    code, output = snippet(settings, "--category", "evil")
    assert code == 0, output
    assert "<script>" not in output and "<img" not in output
    links = links_of(output)
    assert len(links) == len(SYNDICATION_FORMATS)
    assert {link.get("title") for link in links} == {f"{settings.site_title} – {name}"}


def test_snippet_page_shows_each_page_kind_as_the_cli_prints_it(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    response = demo_client.get("/feeds/snippet.html")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = lxml.html.fromstring(response.data)
    shown = {
        section.findtext("h2"): section.findtext("pre/code") for section in page.xpath("//section")
    }
    expected = {
        "Home page": [],
        "Home page in Français": ["--language", "fr"],
        "Home page in العربية": ["--language", "ar"],
        "Category page: Tech": ["--category", "tech"],
        "Category page: Donjon": ["--category", "donjon"],
    }
    for heading, options in expected.items():
        assert shown[heading] == snippet(demo_settings, *options)[1].rstrip("\n"), heading
    categories = demo_client.get("/feeds.json").get_json()["feeds"]
    category_count = len({feed["category"] for feed in categories} - {None})
    assert len(shown) == 1 + len(demo_settings.languages) + category_count + 1  # and the note
    again = demo_client.get(
        "/feeds/snippet.html", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
