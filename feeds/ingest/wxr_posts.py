"""What a WordPress export's item becomes: a post (its status, dates, terms, authors and
paragraphs as WordPress meant them), or the reason it is not imported."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from feeds.ingest.languages import record_language
from feeds.ingest.media import ForeignMedia
from feeds.ingest.runner import Record
from feeds.ingest.source import size_text
from feeds.ingest.wxr_document import Channel, Item
from feeds.settings import Settings
from feeds.store.cleaning import clean_foreign_html, plain_text, slugify
from feeds.store.models import PostStatus
from feeds.store.validation import AuthorInput, ImageInput, PostInput, TermInput

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
# The size WordPress records of an uploaded image, PHP-serialized in its attachment's
# _wp_attachment_metadata: the array begins with the full image's width and height (then
# file, sizes…, whose own widths this anchored pattern cannot reach). Only these two are
# read: no PHP unserializer runs on the export's text. Another shape gives no size.
_ATTACHMENT_SIZE = re.compile(r'a:\d+:\{s:5:"width";i:(\d{1,10});s:6:"height";i:(\d{1,10});')
# Block-level tags: content with none of them was written in the classic editor, which
# stores paragraphs as blank lines and lets the theme add <p> when it shows the post.
_BLOCK_TAG = re.compile(r"<(p|div|h[1-6]|ul|ol|table|blockquote|pre|figure)[\s>]", re.IGNORECASE)


def _position(number: int, item: Item) -> str:
    guid = item.text("guid") or item.text("link")
    return f"item {number} (guid {guid})" if guid else f"item {number}"


def is_post(item: Item) -> bool:
    """Whether the item is of the one post type imported."""
    return (item.text("wp:post_type") or "post") == "post"


def _not_a_post(position: str, item: Item) -> Record | None:
    if not is_post(item):
        post_type = item.text("wp:post_type")
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


def attachment_image(item: Item) -> tuple[str, ImageInput] | None:
    """An attachment item's ``wp:post_id`` and its file as an image (checked when a post
    takes it as its featured image); None for any other item."""
    post_id = item.text("wp:post_id")
    url = item.text("wp:attachment_url")
    if item.text("wp:post_type") != "attachment" or not post_id or not url:
        return None
    alt = plain_text(next(iter(item.meta_values("_wp_attachment_image_alt")), ""))
    metadata = next(iter(item.meta_values("_wp_attachment_metadata")), "")
    size = _ATTACHMENT_SIZE.match(metadata.strip())
    width, height = (int(size.group(1)), int(size.group(2))) if size else (None, None)
    return post_id, ImageInput(url, alt, width, height)


def featured_image_id(item: Item) -> str | None:
    """The ``wp:post_id`` of the attachment a post item shows as its featured image."""
    return next(iter(item.meta_values("_thumbnail_id")), "").strip() or None


def item_record(
    number: int,
    item: Item,
    channel: Channel,
    settings: Settings,
    attachments: Mapping[str, ImageInput],
) -> Record:
    """The Record of one item: a post, or why it is not imported. ``attachments`` are the
    export's attachments read so far, by id (the featured image is one of them)."""
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
    media = _media(item, link, attachments)
    return Record(
        position,
        warnings=tuple(media.warnings),
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
            image=media.image,
            enclosures=media.enclosures,
        ),
    )


def _media(item: Item, link: str, attachments: Mapping[str, ImageInput]) -> ForeignMedia:
    """The post's featured image (its _thumbnail_id's attachment) and its enclosures (each
    ``enclosure`` postmeta: WordPress keeps "url\\nlength\\ntype" in it)."""
    media = ForeignMedia(link)
    thumbnail = featured_image_id(item)
    image = attachments.get(thumbnail) if thumbnail else None
    if image is not None:
        media.offer_image(image.url, image.alt, image.width, image.height)
    for value in item.meta_values("enclosure"):
        url, length, kind = [*(line.strip() for line in value.splitlines()), "", ""][:3]
        if url:
            media.add_enclosure(url, kind, length)
    return media


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
