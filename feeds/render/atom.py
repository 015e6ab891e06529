"""The Atom 1.0 writer (RFC 4287): a FeedDocument as bytes, through feedgen.

Beyond feedgen: the feed's own page as a second ``alternate`` link, each entry's enclosures
as ``link rel="enclosure"`` (all of them, unlike
RSS), each entry's xml:lang (mixed-language feeds say which entry is in which),
RFC 6721 tombstones for recent deletions, and the rel and type of entry links, which
feedgen 1.0 drops (lkiesow/python-feedgen#135).
"""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from feeds.render.document import Entry, FeedDocument, Tombstone
from feeds.render.feedgen_base import add_entries, feed_generator, link_attributes

TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_EXTENSION = "feeds_atom"


def write_atom(document: FeedDocument) -> bytes:
    """``document`` as an Atom feed, UTF-8."""
    generator = feed_generator(document)
    # After the blog page's alternate link: readers take the first as the feed's site
    # (SimplePie, Miniflux); the page differs from it by hreflang, as RFC 4287 4.2.7.2 needs.
    generator.link(link_attributes(document.page))
    generator.register_extension(_EXTENSION, _AtomFeed, _AtomEntry, rss=False)
    getattr(generator, _EXTENSION).tombstones = document.tombstones
    for feed_entry, entry in add_entries(generator, document):
        getattr(feed_entry, _EXTENSION).entry = entry
        if entry.enclosures:
            feed_entry.link(_enclosure_links(entry))
    body: bytes = generator.atom_str(pretty=False, encoding="UTF-8")
    return body


class _AtomFeed(BaseExtension):
    """RFC 6721 ``at:deleted-entry`` elements: which entries left the feed, and when."""

    def __init__(self) -> None:
        self.tombstones: tuple[Tombstone, ...] = ()

    def extend_ns(self) -> dict[str, str]:
        # Declared only when used: validators warn on the namespace, which predates them.
        return {"at": TOMBSTONES_NS} if self.tombstones else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        for tombstone in self.tombstones:
            element = etree.SubElement(
                feed,
                f"{{{TOMBSTONES_NS}}}deleted-entry",
                ref=tombstone.ref,
                when=tombstone.when.isoformat(),
            )
            # feedgen builds Atom elements without a namespace and declares it with xmlns.
            etree.SubElement(element, "link", href=tombstone.link, rel="alternate")
        return feed


def _enclosure_links(entry: Entry) -> list[dict[str, str]]:
    """The entry's enclosures as the fields of Atom links, in order."""
    links = []
    for enclosure in entry.enclosures:
        link = {"href": enclosure.url, "rel": "enclosure", "type": enclosure.media_type}
        if enclosure.length is not None:
            link["length"] = str(enclosure.length)
        links.append(link)
    return links


class _AtomEntry(BaseEntryExtension):
    """The entry's language, and its links' rel, type and length."""

    def __init__(self) -> None:
        self.entry: Entry | None = None

    def extend_atom(self, element: etree._Element) -> etree._Element:
        if self.entry is None:
            return element
        element.set(_XML_LANG, self.entry.language)
        alternate = {"rel": self.entry.link.rel, "type": self.entry.link.media_type or ""}
        # feedgen writes the links in the order they were given: the post's, then enclosures.
        given = [alternate, *_enclosure_links(self.entry)]
        for link, fields in zip(element.findall("link"), given, strict=True):
            for name in ("rel", "type", "length"):
                if fields.get(name):
                    link.set(name, fields[name])
        return element
