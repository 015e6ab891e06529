"""`feeds build DIR`: every feed as files, rebuilt incrementally, served by a real nginx."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from feeds.serving.service import FeedService
from feeds.serving.spec import FeedFormat, FeedSpec
from feeds.settings import Settings
from feeds.store import Store
from feeds.tools.check import feed_problems
from feeds.tools.static_build import build_static
from feeds.web.http import NOSNIFF, PAGE_POLICY
from tests.conftest import REPO, add_post, parse_feed
from tests.live import free_port, nginx_server, request


@pytest.fixture
def service(store: Store, settings: Settings) -> FeedService:
    add_post(store, settings, slug="one", categories=["tech"])
    add_post(store, settings, slug="deux", language="fr", categories=["donjon"])
    return FeedService(settings, store)


def test_build_writes_every_feed_with_a_gzip_sibling(service: FeedService, tmp_path: Path) -> None:
    result = build_static(service, tmp_path)
    # formats × (site + 11 languages) × (all + 2 categories)
    assert len(result.written) == len(FeedFormat) * (12 * 3 + 3)  # and the author's
    for name in result.written:
        body = (tmp_path / name).read_bytes()
        spec = FeedSpec.from_url(service.settings, f"/{name}")
        assert spec is not None and feed_problems(spec, body) == [], name
        assert gzip.decompress((tmp_path / f"{name}.gz").read_bytes()) == body
    assert (tmp_path / "fr/feeds/category/donjon.rss").is_file()
    assert (tmp_path / "fr/feeds/category/donjon.json").is_file()
    assert '"feeds"' in (tmp_path / "feeds.json").read_text()


def test_file_time_is_the_feed_update_time(service: FeedService, tmp_path: Path) -> None:
    build_static(service, tmp_path)
    path = tmp_path / "feeds/category/tech.atom"
    updated = parse_feed(path.read_bytes()).feed.updated
    assert datetime.fromtimestamp(path.stat().st_mtime, UTC) == datetime.fromisoformat(updated)


def test_a_second_build_rewrites_nothing(service: FeedService, tmp_path: Path) -> None:
    build_static(service, tmp_path)
    again = build_static(service, tmp_path)
    assert again.written == [] and again.identical == []
    assert len(again.skipped) == len(FeedFormat) * (12 * 3 + 3)


@pytest.mark.process
def test_a_write_rebuilds_only_the_feeds_of_its_scopes(
    service: FeedService, store: Store, settings: Settings, tmp_path: Path
) -> None:
    build_static(service, tmp_path)
    add_post(store, settings, slug="trois", language="fr", categories=["donjon"])
    result = build_static(service, tmp_path)
    assert sorted(result.written) == sorted(
        f"{prefix}feeds/{name}.{fmt}"
        for prefix in ("", "fr/")
        for name in ("all", "category/donjon", "author/ada-lovelace")
        for fmt in FeedFormat
    )
    entries = parse_feed((tmp_path / "fr/feeds/category/donjon.atom").read_bytes()).entries
    assert len(entries) == 2


@pytest.fixture
def nginx(service: FeedService, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A real nginx serving a static build with the repository's deploy/nginx-static.conf."""
    site = tmp_path / "site"
    build_static(service, site)
    port = free_port()
    server = (REPO / "deploy/nginx-static.conf").read_text()
    server = server.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    server = server.replace("root /srv/feeds;", f"root {site};")
    with nginx_server(server, port, tmp_path):
        yield port, site


@pytest.mark.process
def test_nginx_serves_the_build_the_way_aggregators_expect(nginx: tuple[int, Path]) -> None:
    port, site = nginx
    response, body = request(
        port, "GET", "/fr/feeds/category/donjon.atom", {"Accept-Encoding": "gzip"}
    )
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/atom+xml; charset=utf-8"
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    parsed = parse_feed(gzip.decompress(body))
    assert len(parsed.entries) == 1
    modified = parsedate_to_datetime(response.getheader("Last-Modified"))
    assert modified == datetime.fromisoformat(parsed.feed.updated).replace(microsecond=0)

    plain, plain_body = request(port, "GET", "/fr/feeds/category/donjon.atom", {})
    assert plain_body == (site / "fr/feeds/category/donjon.atom").read_bytes()
    etag = plain.getheader("ETag")
    again, again_body = request(
        port, "GET", "/fr/feeds/category/donjon.atom", {"If-None-Match": etag}
    )
    assert again.status == 304 and again_body == b""
    rss, _ = request(port, "GET", "/feeds/all.rss", {})
    assert rss.getheader("Content-Type") == "application/rss+xml; charset=utf-8"
    json_feed, json_body = request(port, "GET", "/fr/feeds/category/donjon.json", {})
    assert json_feed.getheader("Content-Type") == "application/feed+json; charset=utf-8"
    assert json.loads(json_body)["items"][0]["language"] == "fr"
    index, index_body = request(port, "GET", "/feeds.json", {})
    assert index.getheader("Content-Type") == "application/json; charset=utf-8"
    assert index.getheader("Cache-Control") == "public, max-age=300"
    assert json.loads(index_body)["feeds"]
    opml, opml_body = request(port, "GET", "/feeds.opml", {})
    assert opml.getheader("Content-Type") == "text/x-opml; charset=utf-8"
    assert opml_body == (site / "feeds.opml").read_bytes()
    page, page_body = request(port, "GET", "/fr/feeds/category/donjon.html", {})
    assert page.getheader("Content-Type") == "text/html; charset=utf-8"
    assert page_body == (site / "fr/feeds/category/donjon.html").read_bytes()
    for name, value in (*PAGE_POLICY, NOSNIFF):  # the application's own page policy
        assert page.getheader(name) == value, name
    stylesheet, _ = request(port, "GET", "/static/feeds.css", {})
    assert stylesheet.status == 200
    assert stylesheet.getheader("Content-Type") == "text/css; charset=utf-8"
