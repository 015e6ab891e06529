"""What a feed says: from the FeedSpec, the settings and the content the store read, one
FeedDocument, the same for every format (Django's syndication view, in spirit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from feeds.render.document import Category, Entry, FeedDocument, Link, Tombstone
from feeds.serving.content import FeedContent, Person, PostRecord, Term
from feeds.serving.links import SiteLinks, text_direction
from feeds.serving.spec import SYNDICATION_FORMATS, FeedFormat, FeedSpec, ScopeKind
from feeds.settings import Settings

# An empty feed still needs a fixed `updated`, so that its validators stay stable; one that
# readers and the W3C validator find plausible (it warns of dates before 1990).
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
GENERATOR = "feeds"
_TITLE_OF_KIND = {
    ScopeKind.SITE: "{}",
    ScopeKind.CATEGORY: "{}",
    ScopeKind.TAG: "#{}",
    ScopeKind.AUTHOR: "by {}",
}
HTML = "text/html"


def describe(spec: FeedSpec, settings: Settings, content: FeedContent) -> FeedDocument:
    """The feed ``spec`` holding ``content``.

    Its update time is its newest entry's, or its newest deletion's: a deletion changes
    the feed too. Every page links to itself, to the blog page it mirrors, and (RFC 5005)
    to the first page and the next, older one. The first page also links to each WebSub
    hub: it is the topic published to the hubs; an older page is never published, so a
    subscription to it would never hear of a change, and neither is a combined category
    feed (a change would have to be published to every combination). The first page of a
    feed with archives (RFC 5005 section 4) links to the newest (``prev-archive``); an
    archive document links to that first page (``current``), to the archive before it and
    to the one after it once that is sealed, and says it is one."""
    links = SiteLinks(settings)
    language = spec.language or settings.default_language
    updated = max(
        [*(entry_updated(post) for post in content.posts), *(d.deleted for d in content.deletions)],
        default=EMPTY_FEED_UPDATED,
    )
    feed_type = spec.format.mime_type
    alternate = links.scope_page(spec)
    first_url = links.feed(spec.at_archive(None))
    feed_links = [Link(links.feed(spec), "self", feed_type), Link(alternate, "alternate", HTML)]
    if spec.archive is not None:
        feed_links.append(Link(first_url, "current", feed_type))
    elif spec.before is None and not spec.combined and spec.format.syndication:
        feed_links += [Link(hub.url, "hub") for hub in settings.hubs]
    else:
        feed_links.append(Link(first_url, "first", feed_type))
    if content.next_page is not None:
        feed_links.append(Link(links.feed(spec.page(content.next_page)), "next", feed_type))
    if content.prev_archive is not None:
        previous = links.feed(spec.at_archive(content.prev_archive))
        feed_links.append(Link(previous, "prev-archive", feed_type))
    if content.next_archive is not None:
        following = links.feed(spec.at_archive(content.next_archive))
        feed_links.append(Link(following, "next-archive", feed_type))
    return FeedDocument(
        id=first_url,
        title=feed_title(settings, spec, content.terms),
        subtitle=settings.site_description,
        language=language,
        direction=text_direction(language),
        updated=updated,
        links=tuple(feed_links),
        author=Person(settings.site_title, uri=settings.home_url),
        generator=GENERATOR,
        ttl_minutes=max(1, -(-settings.cache_max_age // 60)),  # max-age, rounded up
        entries=tuple(_entry(post, links) for post in content.posts),
        page=Link(links.feed(spec.as_format(FeedFormat.HTML)), "alternate", HTML, language),
        service_url=settings.base_url,
        versions=_versions(spec, settings, links),
        tombstones=tuple(Tombstone(d.entry_id, d.deleted, d.link) for d in content.deletions),
        archive=spec.archive is not None,
    )


def _versions(spec: FeedSpec, settings: Settings, links: SiteLinks) -> tuple[Link, ...]:
    """The feed to subscribe to (its first page, whatever page or archive ``spec`` is) in
    each syndication format; for a first page, also its page in every language it comes in
    (None: every language) but its own."""
    subscription = spec.at_archive(None)
    versions = [
        Link(links.feed(subscription.as_format(fmt)), "alternate", fmt.mime_type, title=fmt.label)
        for fmt in SYNDICATION_FORMATS
    ]
    if spec.before is None and spec.archive is None:
        page = spec.as_format(FeedFormat.HTML)
        versions += [
            Link(links.feed(replace(page, language=code)), "alternate", HTML, code, name)
            for code, name in [(None, None), *settings.languages.items()]
            if code != spec.language
        ]
    return tuple(versions)


def feed_title(settings: Settings, spec: FeedSpec, terms: Sequence[Term]) -> str:
    """The human title of a feed: the site, then its categories, tag or author (by name),
    then its language."""
    title = settings.site_title
    names = " + ".join(term.name for term in terms)
    if names:
        title += f" – {_TITLE_OF_KIND[spec.kind].format(names)}"
    if spec.language is not None:
        title += f" ({settings.languages[spec.language]})"
    return title


def entry_updated(post: PostRecord) -> datetime:
    """When a reader should see the entry as last changed.

    A scheduled post was last written before it became due; it counts as changed when
    it appears, so that the feed's update time moves with it.
    """
    return max(post.updated, post.published)


def _entry(post: PostRecord, links: SiteLinks) -> Entry:
    tag_scheme = f"{links.home(post.language)}/tag/"
    categories = [Category(c.slug, c.name) for c in post.categories]
    # WordPress-style tags: told apart from categories by their scheme
    categories += [Category(t.slug, t.name, tag_scheme) for t in post.tags]
    return Entry(
        id=post.entry_id,
        title=post.title,
        link=Link(links.post(post.slug, post.language), "alternate", HTML),
        published=post.published,
        updated=entry_updated(post),
        summary=post.summary,
        content_html=_directed(post.content_html, post.language),
        language=post.language,
        authors=post.authors,
        categories=tuple(categories),
        image=post.image,
        enclosures=post.enclosures,
    )


def _directed(html: str, language: str) -> str:
    """Content wrapped so that readers lay out right-to-left languages the right way."""
    if not html or text_direction(language) == "ltr":
        return html
    return f'<div dir="rtl" lang="{language}">{html}</div>'
