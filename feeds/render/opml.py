"""The feed index as an OPML 2.0 subscription list (http://opml.org/spec2.opml), served as
/feeds.opml and written by ``feeds build``: what feed readers import to follow many feeds
at once.

A reader subscribes to one URL per outline, so each feed is listed once, in Atom (every
format carries the same posts; Atom is the one with ids, dates and languages that every
reader reads alike), not three times.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree

from feeds.render.index import EVERY_LANGUAGE
from feeds.serving.spec import FeedFormat, ScopeKind
from feeds.settings import Settings

OPML_MEDIA_TYPE = "text/x-opml; charset=utf-8"
# The format each outline's xmlUrl points at.
OUTLINE_FORMAT = FeedFormat.ATOM
SPEC_URL = "http://opml.org/spec2.opml"
# The outlines inside a language's, after its site feed, in this order.
_SCOPE_GROUPS = (
    (ScopeKind.CATEGORY, "Categories"),
    (ScopeKind.TAG, "Tags"),
    (ScopeKind.AUTHOR, "Authors"),
)


def opml_document(settings: Settings, index: Mapping[str, Any], updated: datetime) -> bytes:
    """The OPML 2.0 document of ``index`` (feeds.render.index.feed_index), its Atom feeds:
    an outline per language ("Every language" first), holding that language's site feed,
    then an outline each of its category, tag and author feeds (empty ones left out).
    ``updated`` (when the site last changed) dates it, in RFC 822 as OPML asks."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    date = format_datetime(updated.astimezone(UTC), usegmt=True)
    for name, text in (
        ("title", f"{index['site']}: feeds"),
        ("dateCreated", date),
        ("dateModified", date),
        ("ownerName", index["site"]),
        ("docs", SPEC_URL),
    ):
        etree.SubElement(head, name).text = text
    body = etree.SubElement(opml, "body")
    feeds = [feed for feed in index["feeds"] if feed["format"] == OUTLINE_FORMAT.value]
    for language in (None, *settings.languages):
        in_language = [feed for feed in feeds if feed["language"] == language]
        if not in_language:
            continue
        name = settings.languages[language] if language else EVERY_LANGUAGE
        group = _folder(body, name)
        for feed in in_language:
            if _kind_of(feed) is ScopeKind.SITE:
                _subscription(group, feed)
        for kind, label in _SCOPE_GROUPS:
            of_kind = [feed for feed in in_language if _kind_of(feed) is kind]
            if of_kind:
                folder = _folder(group, label)
                for feed in of_kind:
                    _subscription(folder, feed)
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _kind_of(feed: Mapping[str, Any]) -> ScopeKind:
    """What an index entry covers: the kind whose slug it names, else the site."""
    return next(
        (kind for kind, _ in _SCOPE_GROUPS if feed[kind.name.lower()] is not None),
        ScopeKind.SITE,
    )


def _folder(parent: etree._Element, text: str) -> etree._Element:
    return etree.SubElement(parent, "outline", {"text": text, "title": text})


def _subscription(parent: etree._Element, feed: Mapping[str, Any]) -> None:
    """One feed, with the attributes OPML 2.0 gives a subscription (type, text and xmlUrl
    required; title, htmlUrl, language)."""
    attributes = {
        "type": "rss",  # OPML's name for any feed, Atom included
        "text": feed["title"],
        "title": feed["title"],
        "xmlUrl": feed["url"],
        "htmlUrl": feed["home_page_url"],
    }
    if feed["language"] is not None:
        attributes["language"] = feed["language"]
    etree.SubElement(parent, "outline", attributes)
