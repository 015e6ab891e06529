"""WordPress export (WXR) import, streamed: memory stays flat whatever the file's size.

Items of post type ``post`` become posts; their ``<guid>`` becomes the entry id, so that
readers who followed the WordPress feeds see no duplicates after the move. Pages,
attachments, menu items and trashed posts are skipped with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from sqlalchemy.orm import Session

from feeds.ingest.languages import record_language, site_language
from feeds.ingest.runner import Importer, ImportFailed, Record
from feeds.ingest.safe_xml import UnitReader
from feeds.ingest.source import InputTooLarge, Source, size_text
from feeds.settings import Settings
from feeds.store.cleaning import clean_foreign_html, plain_text, slugify
from feeds.store.models import WORDPRESS_IMPORTED, PostStatus
from feeds.store.validation import AuthorInput, PostInput, TermInput
from feeds.store.writes import set_store_fact

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

_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}
# WordPress's own namespace URIs, under whatever prefix; the export's wp and excerpt
# bindings count too (see _Names).
WORDPRESS_NAMESPACE = re.compile(r"https?://wordpress\.org/export/\d+\.\d+/(excerpt/)?")
# Block-level tags: content with none of them was written in the classic editor, which
# stores paragraphs as blank lines and lets the theme add <p> when it shows the post.
_BLOCK_TAG = re.compile(r"<(p|div|h[1-6]|ul|ol|table|blockquote|pre|figure)[\s>]", re.IGNORECASE)
# C0 control characters XML 1.0 forbids. WordPress stores them in posts and exports them,
# which makes the export malformed; in UTF-8 they are single bytes, safe to drop.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def mark_wordpress_imported(session: Session) -> None:
    """Record that a WordPress export was imported, so that its old feed URLs redirect."""
    set_store_fact(session, WORDPRESS_IMPORTED, "yes")


@dataclass
class _Channel:
    """What the export says before its items: version, language, authors, site address."""

    is_wxr: bool = False
    language_tag: str | None = None
    base_url: str = ""
    authors: dict[str, AuthorInput] = field(default_factory=dict)
    language: str | None = None
    language_forced: bool = False


@dataclass
class _Item:
    """One <item>: its single-valued fields and its terms as (domain, nicename, name)."""

    fields: dict[str, str]
    terms: list[tuple[str, str, str]]

    def text(self, name: str) -> str:
        return self.fields.get(name, "").strip()


def wxr_records(source: Source, settings: Settings, language: str | None) -> Iterator[Record]:
    """A Record for each <item> of the export, read one at a time.

    An item larger than import_max_item_bytes is skipped unread, with that reason.
    """
    channel = _Channel(language_forced=bool(language))
    limit = settings.import_max_item_bytes
    reader = UnitReader(_WithoutControlBytes(source.stream), source.name, limit, forbid_dtd=True)
    names = _Names(reader.bindings)
    number = 0
    for unit in reader.units():
        name = names.of(unit.tag)
        if unit.element is None:
            raise RuntimeError("a unit is built before it is read")
        if name == "item":
            number += 1
            if channel.language is None:
                channel.language = _channel_language(channel, source.name, settings, language)
            item = _read_item(unit.element, names)
            if unit.oversize:
                yield _oversize_record(number, item, limit)
            else:
                yield _record(number, item, channel, settings)
        elif unit.oversize:
            raise InputTooLarge(
                f"{source.name}: its <{name}> is larger than import_max_item_bytes "
                f"({size_text(limit)}): refused"
            )
        else:
            _read_channel_field(channel, name, unit.element, names)
    if not channel.is_wxr:
        _refuse_not_wxr(source.name)


def _channel_language(
    channel: _Channel, name: str, settings: Settings, override: str | None
) -> str:
    """The export's language, checked when its first item comes (the channel said it by then)."""
    if not channel.is_wxr:
        _refuse_not_wxr(name)
    return site_language(settings, override, channel.language_tag, name)


def _refuse_not_wxr(name: str) -> None:
    raise ImportFailed(
        f"{name} is not a WordPress export (no <wp:wxr_version>); "
        "for an RSS or Atom feed use `feeds import feed`"
    )


def _read_channel_field(channel: _Channel, name: str, element: Element, names: _Names) -> None:
    text = (element.text or "").strip()
    if name == "wp:wxr_version":
        channel.is_wxr = True
    elif name == "language":
        channel.language_tag = text
    elif name in ("wp:base_blog_url", "link") and not channel.base_url:
        channel.base_url = text
    elif name == "wp:author":
        fields = {names.of(child.tag): (child.text or "").strip() for child in element}
        login = fields.get("wp:author_login", "")
        display = plain_text(fields.get("wp:author_display_name", "")) or login
        # The author's e-mail stays behind: WordPress never shows it, and feeds would
        # publish it (Atom <author><email>).
        if login:
            channel.authors[login] = AuthorInput(display)


def _read_item(element: Element, names: _Names) -> _Item:
    fields: dict[str, str] = {}
    terms = []
    for child in element:
        name = names.of(child.tag)
        if name == "category":
            terms.append((child.get("domain", ""), child.get("nicename", ""), child.text or ""))
        else:
            fields.setdefault(name, child.text or "")
    return _Item(fields, terms)


def _position(number: int, item: _Item) -> str:
    guid = item.text("guid") or item.text("link")
    return f"item {number} (guid {guid})" if guid else f"item {number}"


def _not_a_post(position: str, item: _Item) -> Record | None:
    post_type = item.text("wp:post_type") or "post"
    if post_type != "post":
        return Record(position, ignored=f"post type {post_type!r} (only posts are imported)")
    return None


def _oversize_record(number: int, item: _Item, limit: int) -> Record:
    """The Record of an item too large to read: skipped, unless it is known not to be a post.

    ``item`` holds only the fields that came before the limit was reached.
    """
    position = _position(number, item)
    return _not_a_post(position, item) or Record(
        position, invalid=f"larger than import_max_item_bytes ({size_text(limit)}): not read"
    )


def _record(number: int, item: _Item, channel: _Channel, settings: Settings) -> Record:
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


def _published(item: _Item) -> datetime | None:
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


def _terms(item: _Item, domain: str) -> list[TermInput]:
    terms = []
    for term_domain, nicename, label in item.terms:
        name = plain_text(label)
        slug = unquote(nicename) or slugify(name)
        if term_domain == domain and slug:
            terms.append(TermInput(slug, name or None))
    return terms


def _authors(item: _Item, channel: _Channel) -> list[AuthorInput]:
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


class _Names:
    """Element names as ``prefix:local`` (``wp:status``), whatever URIs the export binds.

    Like WordPress's importer, the URIs the document binds to the ``wp`` and ``excerpt``
    prefixes are WordPress's (WXR 1.0 to 1.2, http or https, or any other); WordPress's own
    URIs are known under any prefix. ``bindings`` is the reader's list, which grows as the
    document declares namespaces.
    """

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        self._bindings = bindings
        self._read = 0
        self._prefixes = dict(_NAMESPACES)

    def of(self, tag: str) -> str:
        if not tag.startswith("{"):
            return tag
        if self._read < len(self._bindings):
            for bound, uri in self._bindings[self._read :]:
                if bound in ("wp", "excerpt"):
                    self._prefixes[uri] = bound
            self._read = len(self._bindings)
        namespace, local = tag[1:].split("}", 1)
        prefix = self._prefixes.get(namespace)
        if prefix is None:
            wordpress = WORDPRESS_NAMESPACE.fullmatch(namespace)
            if wordpress:
                prefix = "excerpt" if wordpress.group(1) else "wp"
        return f"{prefix}:{local}" if prefix else local


class _WithoutControlBytes:
    """A binary stream read without the C0 control bytes XML 1.0 forbids."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        while True:
            data = self._stream.read(size)
            kept = data.translate(None, _CONTROL_BYTES)
            if kept or not data:  # an empty read would look like the end of the file
                return kept


WXR_IMPORTER = Importer(wxr_records, free_slugs=True, finish=mark_wordpress_imported)
