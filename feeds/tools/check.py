"""Checks a served feed the way a feed reader would read it."""

from __future__ import annotations

import feedparser
from lxml import etree

from feeds.serving.spec import FeedFormat, FeedSpec

_ATOM = "{http://www.w3.org/2005/Atom}"


def feed_problems(spec: FeedSpec, body: bytes) -> list[str]:
    """What is wrong with the feed document ``body``; empty when a reader would take it."""
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
    for url in _links(root):
        if not url.startswith(("http://", "https://")):
            problems.append(f"link is not absolute: {url!r}")
    ids = [entry.get("id") for entry in parsed.entries]
    if None in ids or "" in ids:
        problems.append("an entry has no id")
    if len(set(ids)) != len(ids):
        problems.append("two entries share an id")
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


def _links(root: etree._Element) -> list[str]:
    hrefs = root.xpath("//*[local-name()='link']/@href")
    texts = root.xpath("/rss/channel/link/text() | /rss/channel/item/link/text()")
    return [str(value) for value in [*hrefs, *texts]]
