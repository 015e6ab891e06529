"""RSS 2.0 and Atom 1.0 documents, built with feedgen from posts already loaded.

No database and no Flask here: the same inputs always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.links import SiteLinks, text_direction
from feeds.settings import Settings
from feeds.spec import FeedFormat, FeedSpec
from feeds.store.models import Author, Category, DeletedEntry, Post
from feeds.store.queries import FeedContent

# An empty feed still needs a fixed `updated`, so that its validators stay stable.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR = "feeds"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class RenderedFeed:
    """A feed document and the time it last changed (its newest entry's update)."""

    body: bytes
    updated: datetime


def feed_title(settings: Settings, spec: FeedSpec, category: Category | None) -> str:
    """The human title of a feed: the site, then its category, then its language."""
    title = settings.site_title
    if category is not None:
        title += f" – {category.name}"
    if spec.language is not None:
        title += f" ({settings.languages[spec.language]})"
    return title


def entry_updated(post: Post) -> datetime:
    """When a reader should see the entry as last changed.

    A scheduled post was last written before it became due; it counts as changed when
    it appears, so that the feed's update time moves with it.
    """
    assert post.published is not None
    return max(post.updated, post.published)


def render_feed(spec: FeedSpec, settings: Settings, content: FeedContent) -> RenderedFeed:
    """The feed ``spec`` holding ``content`` (posts newest first), as RSS 2.0 or Atom 1.0 bytes.

    Atom feeds also announce recent deletions (RFC 6721); in both formats a deletion moves
    the feed's update time, since the feed changed then.
    """
    links = SiteLinks(settings)
    category, posts = content.category, content.posts
    language = spec.language or settings.default_language
    updated = max(
        [*(entry_updated(p) for p in posts), *(d.deleted for d in content.deletions)],
        default=EMPTY_FEED_UPDATED,
    )
    alternate = (
        links.category(category.slug, spec.language) if category else links.home(spec.language)
    )
    self_url = links.feed(spec)
    first_url = links.feed(spec.page(None))
    # RFC 5005 paged feed: every page links to the first page and to the next, older one.
    pages = {"first": first_url} if spec.before else {}
    if content.next_page is not None:
        pages["next"] = links.feed(spec.page(content.next_page))

    generator = FeedGenerator()
    generator.load_extension("dc", atom=False, rss=True)
    generator.register_extension("entry_language", _NoFeedExtension, _EntryLanguage, rss=False)
    generator.register_extension("tombstones", _Tombstones, _NoEntryExtension, rss=False)
    generator.tombstones.deletions = content.deletions
    generator.register_extension("pages", _RssPageLinks, _NoEntryExtension, atom=False)
    generator.pages.links = pages
    generator.id(first_url)
    generator.title(feed_title(settings, spec, category))
    generator.subtitle(settings.site_description)
    generator.description(settings.site_description)
    feed_type = spec.format.media_type.split(";")[0]
    generator.link(href=self_url, rel="self", type=feed_type)
    for rel, href in pages.items():
        generator.link(href=href, rel=rel, type=feed_type)
    # feedgen takes the last link added as RSS's <link>: the blog page, not a feed.
    generator.link(href=alternate, rel="alternate", type="text/html")
    generator.language(language)
    generator.author(name=settings.site_title, uri=settings.home_url)
    generator.generator(GENERATOR)
    generator.updated(updated)
    generator.lastBuildDate(updated)
    generator.ttl(max(1, settings.cache_max_age // 60))

    for post in reversed(posts):  # feedgen prepends each new entry
        _add_entry(generator.add_entry(), post, links)

    if spec.format is FeedFormat.ATOM:
        body = generator.atom_str(pretty=False, encoding="UTF-8")
    else:
        body = generator.rss_str(pretty=False, encoding="UTF-8")
    return RenderedFeed(body=body, updated=updated)


def _add_entry(entry: FeedEntry, post: Post, links: SiteLinks) -> None:
    url = links.post(post.slug, post.language)
    entry.id(post.entry_id)
    entry.guid(post.entry_id, permalink=False)
    entry.title(post.title)
    entry.link(href=url, rel="alternate", type="text/html")
    entry.published(post.published)
    entry.updated(entry_updated(post))
    if post.summary:
        entry.summary(escape(post.summary, quote=False), type="html")
    # Content is the post's cleaned HTML only; a plain-text summary never stands in for it.
    if post.content_html:
        entry.content(_directed(post.content_html, post.language), type="html")
    # Each list is handed to feedgen at once: it rebuilds its RSS lists on every call.
    if post.authors:
        entry.author([_author_fields(author) for author in post.authors])
    entry.dc.dc_creator([a.name for a in post.authors])
    entry.dc.dc_language(post.language)
    tag_scheme = f"{links.home(post.language)}/tag/"
    terms = [{"term": c.slug, "label": c.name} for c in post.categories]
    # WordPress-style tags: told apart from categories by their scheme
    terms += [{"term": t.slug, "label": t.name, "scheme": tag_scheme} for t in post.tags]
    if terms:
        entry.category(terms)
    entry.entry_language.language = post.language


def _author_fields(author: Author) -> dict[str, str]:
    fields = {"name": author.name, "email": author.email, "uri": author.uri}
    return {key: value for key, value in fields.items() if value}


def _directed(html: str, language: str) -> str:
    """Content wrapped so that readers lay out right-to-left languages the right way."""
    if not html or text_direction(language) == "ltr":
        return html
    return f'<div dir="rtl" lang="{language}">{html}</div>'


class _NoFeedExtension(BaseExtension):
    """feedgen wants a feed-level class for every extension; this one adds nothing."""


class _NoEntryExtension(BaseEntryExtension):
    """feedgen wants an entry-level class for every extension; this one adds nothing."""


class _RssPageLinks(BaseExtension):
    """RFC 5005 page links (first, next) in RSS, as atom:link elements of the channel.

    feedgen writes only the self link into RSS; Atom gets these from generator.link()."""

    def __init__(self) -> None:
        self.links: dict[str, str] = {}

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        for rel, href in self.links.items():
            etree.SubElement(
                channel, f"{{{ATOM_NS}}}link", href=href, rel=rel, type="application/rss+xml"
            )
        return feed


class _Tombstones(BaseExtension):
    """RFC 6721 ``at:deleted-entry`` elements: which entries left the feed, and when."""

    def __init__(self) -> None:
        self.deletions: Sequence[DeletedEntry] = ()

    def extend_ns(self) -> dict[str, str]:
        # Declared only when used: validators warn on the namespace, which predates them.
        return {"at": TOMBSTONES_NS} if self.deletions else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        for deletion in self.deletions:
            element = etree.SubElement(
                feed,
                f"{{{TOMBSTONES_NS}}}deleted-entry",
                ref=deletion.entry_id,
                when=deletion.deleted.isoformat(),
            )
            # feedgen builds Atom elements without a namespace and declares it with xmlns.
            etree.SubElement(element, "link", href=deletion.link, rel="alternate")
        return feed


class _EntryLanguage(BaseEntryExtension):
    """Marks each Atom entry with its post's language (xml:lang), for mixed-language feeds."""

    def __init__(self) -> None:
        self.language: str | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.language:
            entry.set(_XML_LANG, self.language)
        return entry
