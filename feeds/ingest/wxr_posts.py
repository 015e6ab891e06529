"""What a WordPress export's item becomes: a post (its status, dates, terms, authors and
paragraphs as WordPress meant them), or the reason it is not imported."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from feeds.ingest.languages import record_language
from feeds.ingest.runner import Record
from feeds.ingest.source import size_text
from feeds.ingest.wxr_document import Channel, Item
from feeds.settings import Settings
from feeds.store.cleaning import clean_foreign_html, plain_text, slugify
from feeds.store.models import PostStatus
from feeds.store.validation import AuthorInput, PostInput, TermInput

# What a WordPress status becomes. The content of private and password-protected posts
# was never public, so they stay drafts; a future post keeps its date and appears in
# feeds when it falls due.
STATUSES = {
    "publish": PostStatus.PUBLISHED,
    "future": PostStatus.PUBLISHED,
    "draft": PostStatus.DRAFT,
    "pending": PostStatus.DRAFT,
    "private": PostStatus.DRAFT,
}
NOT_IMPORTED_STATUSES = {"trash": "in the trash", "auto-draft": "an auto-draft"}
NO_DATE = "0000-00-00 00:00:00"
# Block-level tags: content with none of them was written in the classic editor, which
# stores paragraphs as blank lines and lets the theme add <p> when it shows the post.
_BLOCK_TAG = re.compile(r"<(p|div|h[1-6]|ul|ol|table|blockquote|pre|figure)[\s>]", re.IGNORECASE)


def _position(number: int, item: Item) -> str:
    guid = item.text("guid") or item.text("link")
    return f"item {number} (guid {guid})" if guid else f"item {number}"


def _not_a_post(position: str, item: Item) -> Record | None:
    post_type = item.text("wp:post_type") or "post"
    if post_type != "post":
        return Record(position, ignored=f"post type {post_type!r} (only posts are imported)")
    return None


def oversize_record(number: int, item: Item, limit: int) -> Record:
    """The Record of an item too large to read: skipped, unless it is known not to be a post.

    ``item`` holds only the fields that came before the limit was reached.
    """
    position = _position(number, item)
    return _not_a_post(position, item) or Record(
        position, invalid=f"larger than import_max_item_bytes ({size_text(limit)}): not read"
    )


def item_record(number: int, item: Item, channel: Channel, settings: Settings) -> Record:
    """The Record of one item: a post, or why it is not imported."""
    guid = item.text("guid") or item.text("link")
    position = _position(number, item)
    not_a_post = _not_a_post(position, item)
    if not_a_post is not None:
        return not_a_post
    wp_status = item.text("wp:status")
    if wp_status in NOT_IMPORTED_STATUSES:
        return Record(position, ignored=NOT_IMPORTED_STATUSES[wp_status])
    if wp_status not in STATUSES:
        return Record(position, invalid=f"unknown WordPress status {wp_status!r}")
    if not guid:
        return Record(position, invalid="no <guid> or <link> to identify it by")
    # Polylang, the usual multilingual plugin, gives each post a term of its "language"
    # taxonomy, whose slug is the language code.
    own_language = next((slug for domain, slug, _ in item.terms if domain == "language"), None)
    language = record_language(
        own_language, channel.language, channel.language_forced, settings.languages
    )
    if language is None:
        return Record(position, invalid=f"language {own_language!r} is not configured")
    status = STATUSES[wp_status]
    if item.text("wp:post_password"):
        status = PostStatus.DRAFT
    published = _published(item)
    if status is PostStatus.PUBLISHED and published is None:
        return Record(position, invalid="no date: neither wp:post_date_gmt nor pubDate gives one")
    title = plain_text(item.text("title"))
    link = item.text("link") or channel.base_url
    content = _with_paragraphs(item.fields.get("content:encoded", ""))
    return Record(
        position,
        post=PostInput(
            title=title,
            slug=unquote(item.text("wp:post_name")) or slugify(title),
            language=language,
            summary=plain_text(item.fields.get("excerpt:encoded", "")),
            content_html=clean_foreign_html(content, link),
            status=status,
            published=published,
            updated=_gmt(item.text("wp:post_modified_gmt")),
            categories=_terms(item, "category"),
            tags=_terms(item, "post_tag"),
            authors=_authors(item, channel),
            entry_id=guid,
        ),
    )


def _published(item: Item) -> datetime | None:
    """wp:post_date_gmt; pubDate only when that is absent (WordPress derives pubDate from it,
    so a zero date gives a meaningless pubDate)."""
    gmt = item.text("wp:post_date_gmt")
    if gmt:
        return _gmt(gmt)
    try:
        return parsedate_to_datetime(item.text("pubDate")).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _gmt(text: str) -> datetime | None:
    """A WordPress GMT date (``2024-05-01 09:00:00``); None for none or ``0000-00-00 …``."""
    if not text or text == NO_DATE:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def _terms(item: Item, domain: str) -> list[TermInput]:
    terms = []
    for term_domain, nicename, label in item.terms:
        name = plain_text(label)
        slug = unquote(nicename) or slugify(name)
        if term_domain == domain and slug:
            terms.append(TermInput(slug, name or None))
    return terms


def _authors(item: Item, channel: Channel) -> list[AuthorInput]:
    login = item.text("dc:creator")
    if not login:
        return []
    return [channel.authors.get(login) or AuthorInput(login)]


def _with_paragraphs(content: str) -> str:
    """Classic-editor content with its blank-line paragraphs as <p> (WordPress's wpautop)."""
    if not content.strip() or _BLOCK_TAG.search(content):
        return content
    paragraphs = re.split(r"\n\s*\n", content.strip())
    # Newlines stay beside the tags, so that text drawn from the HTML keeps its spaces.
    return "\n".join(f"<p>{p.strip().replace(chr(10), '<br>' + chr(10))}</p>" for p in paragraphs)
