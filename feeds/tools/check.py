"""Checks a served feed the way a feed reader would read it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import feedparser
import lxml.html
from lxml import etree

from feeds.render.jsonfeed import VERSION as JSON_FEED_VERSION
from feeds.serving.spec import FeedFormat, FeedSpec

_ATOM = "{http://www.w3.org/2005/Atom}"
# RFC 3339's date-time (section 5.6), which JSON Feed asks for: a time zone is a must.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def feed_problems(spec: FeedSpec, body: bytes) -> list[str]:
    """What is wrong with the feed document ``body``; empty when a reader would take it."""
    if spec.format is FeedFormat.JSON:
        return _json_feed_problems(body)
    if spec.format is FeedFormat.HTML:
        return _page_problems(body)
    return _xml_feed_problems(spec, body)


def _page_problems(body: bytes) -> list[str]:
    """A feed's page: an HTML document that says its language and title, whose links are
    absolute."""
    try:
        root = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError) as error:
        return [f"not an HTML document: {error}"]
    problems = [] if root.get("lang") else ["the page does not say its language"]
    if not root.findtext("head/title"):
        problems.append("the page has no title")
    return problems + _relative_links(root.xpath("//a/@href | //link/@href"))


def _xml_feed_problems(spec: FeedSpec, body: bytes) -> list[str]:
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    problems: list[str] = []
    parsed = feedparser.parse(body)
    if parsed.bozo:
        problems.append(f"feedparser: {parsed.bozo_exception}")
    expected_root = f"{_ATOM}feed" if spec.format is FeedFormat.ATOM else "rss"
    root_tag = str(root.tag)  # text: the tag of a parsed element
    if root_tag != expected_root:
        problems.append(f"root element is {root_tag}, expected {expected_root}")
    problems += _relative_links(_links(root))
    problems += _id_problems([entry.get("id") for entry in parsed.entries])
    date_keys = ["published_parsed"] + (
        ["updated_parsed"] if spec.format is FeedFormat.ATOM else []
    )
    for entry in parsed.entries:
        if not all(entry.get(key) for key in date_keys):
            problems.append(f"entry {entry.get('id')} lacks a date")
    if not parsed.feed.get("language") and not root.get(
        "{http://www.w3.org/XML/1998/namespace}lang"
    ):
        problems.append("the feed does not say its language")
    return problems


def _json_feed_problems(body: bytes) -> list[str]:
    """The checks of an XML feed that JSON Feed 1.1 has a meaning for, and its own musts:
    a version, a title, items, and content in each item."""
    try:
        feed = json.loads(body)
    except ValueError as error:  # bad JSON and bad UTF-8 alike
        return [f"not valid JSON: {error}"]
    if not isinstance(feed, dict):
        return ["not a JSON Feed: the document is not an object"]
    problems: list[str] = []
    if feed.get("version") != JSON_FEED_VERSION:
        problems.append(f"version is {feed.get('version')!r}, expected {JSON_FEED_VERSION!r}")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("the feed has no title")
    items = feed.get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return [*problems, "items is not a list of objects"]
    problems += _relative_links(_json_links(feed))
    ids = [item.get("id") for item in items]
    problems += [
        f"entry id {value!r} is not a string"
        for value in ids
        if value is not None and not isinstance(value, str)
    ]
    problems += _id_problems([value for value in ids if value is None or isinstance(value, str)])
    for item in items:
        if "content_html" not in item and "content_text" not in item:
            problems.append(f"entry {item.get('id')} has no content_html nor content_text")
        if not all(_is_rfc3339(item.get(key)) for key in ("date_published", "date_modified")):
            problems.append(f"entry {item.get('id')} lacks an RFC 3339 date")
    if not feed.get("language"):
        problems.append("the feed does not say its language")
    return problems


def _id_problems(ids: list[Any]) -> list[str]:
    problems = []
    if None in ids or "" in ids:
        problems.append("an entry has no id")
    if len(set(ids)) != len(ids):
        problems.append("two entries share an id")
    return problems


def _relative_links(urls: Iterable[str]) -> list[str]:
    return [
        f"link is not absolute: {url!r}"
        for url in urls
        if not url.startswith(("http://", "https://"))
    ]


def _links(root: etree._Element) -> list[str]:
    hrefs = root.xpath("//*[local-name()='link']/@href")
    texts = root.xpath("/rss/channel/link/text() | /rss/channel/item/link/text()")
    return [str(value) for value in [*hrefs, *texts]]


def _json_links(feed: dict[str, Any]) -> list[str]:
    """Every URL of a JSON feed: its own, its home page's, the next page's, its hubs', its
    authors', and each item's with its authors'."""
    items = _objects(feed["items"])
    people = _objects(feed.get("authors"))
    people += [person for item in items for person in _objects(item.get("authors"))]
    urls = [
        *(feed.get(key) for key in ("home_page_url", "feed_url", "next_url")),
        *(hub.get("url") for hub in _objects(feed.get("hubs"))),
        *(person.get("url") for person in people),
        *(item.get("url") for item in items),
    ]
    return [str(url) for url in urls if url is not None]


def _objects(value: object) -> list[dict[str, Any]]:
    """The objects of a JSON array (none when ``value`` is not an array)."""
    return [each for each in value if isinstance(each, dict)] if isinstance(value, list) else []


def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str) or _RFC3339.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:  # a day or an hour that does not exist: 2024-02-30, 25:00
        return False
    return True
