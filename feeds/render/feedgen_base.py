"""What the Atom and RSS writers share: a feedgen FeedGenerator filled from a FeedDocument.

feedgen (lkiesow/python-feedgen) writes both formats from one generator; each writer adds
its own format's extensions and works around feedgen's quirks in that format.
"""

from __future__ import annotations

from html import escape

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.render.document import Entry, FeedDocument, Link
from feeds.render.feed_history import mark_archive
from feeds.render.media import add_image, register_media


def feed_generator(document: FeedDocument) -> FeedGenerator:
    """A generator holding the feed-level fields of ``document`` (no entries yet, so that
    a writer can register its extensions first)."""
    generator = FeedGenerator()
    generator.id(document.id)
    generator.title(document.title)
    generator.subtitle(document.subtitle)
    generator.description(document.subtitle)
    # feedgen takes the last alternate link added as RSS's <link>: the blog page, not a feed
    # nor the feed's own page (which RSS gets as an atom:link, feeds.render.rss).
    ordered = sorted(document.links, key=lambda link: link.rel == "alternate")
    for link in ordered:
        generator.link(link_attributes(link))
    generator.language(document.language)
    author = {"name": document.author.name, "uri": document.author.uri}
    generator.author({key: value for key, value in author.items() if value})
    generator.generator(document.generator)
    generator.updated(document.updated)
    generator.lastBuildDate(document.updated)
    generator.ttl(document.ttl_minutes)
    if document.archive:
        mark_archive(generator)
    return generator


def add_entries(generator: FeedGenerator, document: FeedDocument) -> list[tuple[FeedEntry, Entry]]:
    """Add every entry of ``document`` to ``generator``, newest first in the output; each
    feedgen entry with the Entry it came from."""
    if any(entry.image for entry in document.entries):
        register_media(generator)
    added = []
    for entry in reversed(document.entries):  # feedgen prepends each new entry
        feed_entry = generator.add_entry()
        _fill(feed_entry, entry)
        added.append((feed_entry, entry))
    return added


def _fill(feed_entry: FeedEntry, entry: Entry) -> None:
    feed_entry.id(entry.id)
    feed_entry.guid(entry.id, permalink=False)
    feed_entry.title(entry.title)
    feed_entry.link(link_attributes(entry.link))
    feed_entry.published(entry.published)
    feed_entry.updated(entry.updated)
    if entry.summary:
        feed_entry.summary(escape(entry.summary, quote=False), type="html")
    if entry.content_html:
        feed_entry.content(entry.content_html, type="html")
    # Each list is handed to feedgen at once: it rebuilds its RSS lists on every call.
    if entry.authors:
        people = [{"name": a.name, "email": a.email, "uri": a.uri} for a in entry.authors]
        feed_entry.author([{k: v for k, v in person.items() if v} for person in people])
    if entry.categories:
        terms = [{"term": c.term, "label": c.label, "scheme": c.scheme} for c in entry.categories]
        feed_entry.category([{k: v for k, v in term.items() if v} for term in terms])
    if entry.image:
        add_image(feed_entry, entry.image)


def link_attributes(link: Link) -> dict[str, str]:
    """The attributes of ``link`` as an Atom ``link`` element (feedgen's link fields)."""
    fields = {"href": link.href, "rel": link.rel}
    if link.media_type:
        fields["type"] = link.media_type
    if link.hreflang:
        fields["hreflang"] = link.hreflang
    return fields
