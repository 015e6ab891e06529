"""The RSS 2.0 writer: a FeedDocument as bytes, through feedgen.

Beyond feedgen: the RSS 2.0 conventions readers expect of a publisher (WordPress's
feed-rss2.php): ``dc:creator`` and ``dc:language`` on every item, ``content:encoded``,
every feed-level link but the blog page as an ``atom:link`` (feedgen writes only self; the
feed's own HTML page is one, ``rel="alternate" type="text/html"``), and
the poll hints ``ttl``, ``sy:updatePeriod`` and ``sy:updateFrequency``.
An item's first enclosure is its ``<enclosure>``: RSS 2.0 allows one, and requires its
length, 0 when unknown (RSS Best Practices Profile).
"""

from __future__ import annotations

from dataclasses import replace

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from feeds.render.document import FeedDocument, Link
from feeds.render.feedgen_base import add_entries, feed_generator, link_attributes
from feeds.render.syndication import SyndicationHints
from feeds.serving.links import as_uri

ATOM_NS = "http://www.w3.org/2005/Atom"
_EXTENSION = "feeds_rss"
_HINTS = "feeds_syndication"
# feedgen writes these itself: self as atom:link, alternate as <link>.
_WRITTEN_BY_FEEDGEN = frozenset({"self", "alternate"})


def write_rss(document: FeedDocument) -> bytes:
    """``document`` as an RSS 2.0 feed, UTF-8."""
    document = _with_url_links(document)
    generator = feed_generator(document)
    generator.load_extension("dc", atom=False, rss=True)
    generator.register_extension(_EXTENSION, _AtomLinks, BaseEntryExtension, atom=False)
    getattr(generator, _EXTENSION).links = [
        *(link for link in document.links if link.rel not in _WRITTEN_BY_FEEDGEN),
        document.page,
    ]
    generator.register_extension(_HINTS, SyndicationHints, BaseEntryExtension, atom=False)
    # The poll hint says what ttl and the answer's Cache-Control max-age say.
    getattr(generator, _HINTS).seconds = document.ttl_minutes * 60
    for feed_entry, entry in add_entries(generator, document):
        feed_entry.dc.dc_creator([author.name for author in entry.authors])
        feed_entry.dc.dc_language(entry.language)
        if entry.enclosures:  # RSS has room for one; its length is required, 0 if unknown
            first = entry.enclosures[0]
            feed_entry.enclosure(first.url, str(first.length or 0), first.media_type)
    body: bytes = generator.rss_str(pretty=False, encoding="UTF-8")
    return body


def _with_url_links(document: FeedDocument) -> FeedDocument:
    """``document`` with the links RSS writes as ``<link>`` (the blog page, each entry's) in
    their URI form: RSS 2.0 takes URLs there, where Atom takes the IRIs of Unicode slugs."""
    return replace(
        document,
        links=tuple(_as_url(link) if link.rel == "alternate" else link for link in document.links),
        entries=tuple(replace(entry, link=_as_url(entry.link)) for entry in document.entries),
    )


def _as_url(link: Link) -> Link:
    return replace(link, href=as_uri(link.href))


class _AtomLinks(BaseExtension):
    """Feed-level links (RFC 5005 first and next, WebSub hub, the feed's page) as atom:link
    elements."""

    def __init__(self) -> None:
        self.links: list[Link] = []

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        # Next to the self link feedgen wrote, so that a reader finds them together.
        self_link = feed.find(f"channel/{{{ATOM_NS}}}link[@rel='self']")
        if self_link is None:
            raise RuntimeError("feedgen writes RSS with an atom:link rel='self'")
        previous = self_link
        for link in self.links:
            element = etree.Element(f"{{{ATOM_NS}}}link", link_attributes(link))
            previous.addnext(element)
            previous = element
        return feed
