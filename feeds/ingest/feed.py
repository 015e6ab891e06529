"""Import of an existing RSS or Atom feed (a file or a URL), parsed with feedparser.

An entry keeps its own id (RSS guid, Atom id) as its entry id, so that readers who follow
the old feed see no duplicates after the move; its link stands in when it has no id.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote, urlsplit
from xml.sax import SAXParseException

import feedparser

from feeds.ingest.languages import record_language, site_language
from feeds.ingest.media import ForeignMedia
from feeds.ingest.runner import Importer, ImportFailed, Record
from feeds.ingest.safe_xml import EmptyDocument, MalformedXML, UnitReader
from feeds.ingest.source import InputTooLarge, Source, size_text
from feeds.settings import Settings
from feeds.store.cleaning import clean_foreign_html, plain_text, slugify
from feeds.store.validation import AuthorInput, PostInput, TermInput

HTML_TYPES = ("text/html", "application/xhtml+xml")
# RSS items and Atom entries, as units of the document (feeds.ingest.safe_xml).
ENTRY_TAGS = ("item", "entry")


def feed_records(source: Source, settings: Settings, language: str | None) -> Iterator[Record]:
    """A Record for each entry of the feed, in the feed's order.

    The feed is refused whole, before anything is written, when it is not well-formed XML
    (a truncated file would otherwise lose its last entries, or cut one, without a word).
    """
    document = _read_document(source, settings)
    # The HTTP headers tell the charset. Relative links are resolved against each entry's
    # own link (below), not the feed's URL, so that a file and its URL import alike.
    headers = {key.lower(): value for key, value in source.headers.items()}
    parsed = feedparser.parse(document, response_headers=headers)
    del document  # the entries are written next: up to import_max_bytes need not stay
    problem = parsed.get("bozo_exception")
    if isinstance(problem, SAXParseException):  # feedparser's XML parser stopped
        raise MalformedXML(
            f"{source.name} is not well-formed XML: {problem.getMessage()}: line "
            f"{problem.getLineNumber()}, column {problem.getColumnNumber()}"
        )
    if not parsed.get("version"):
        raise ImportFailed(f"{source.name} is not an RSS or Atom feed")
    feed_tag = parsed.feed.get("language")
    # Entries may each say their language (dc:language, xml:lang); the feed's (or
    # --language) is needed only when one does not.
    default = None
    if language or feed_tag or not all(_own_language(e) for e in parsed.entries):
        default = site_language(settings, language, feed_tag, source.name)
    noun, id_name = ("entry", "id") if parsed.version.startswith("atom") else ("item", "guid")
    for number, entry in enumerate(parsed.entries, start=1):
        entry_id = entry.get("id") or entry.get("link")
        position = f"{noun} {number} ({id_name} {entry_id})" if entry_id else f"{noun} {number}"
        tag = _own_language(entry)
        entry_language = record_language(tag, default, bool(language), settings.languages)
        if entry_language is None:
            yield Record(position, invalid=f"language {tag!r} is not configured")
            continue
        yield _record(position, entry, entry_id, entry_language)


def _read_document(source: Source, settings: Settings) -> bytes:
    """The whole feed, for feedparser, read through a UnitReader as it comes: hostile or
    broken XML, a WordPress export, an entry larger than import_max_item_bytes are refused
    before feedparser spends time and memory on them, and memory stays near the file's size.
    """
    document = io.BytesIO()
    copy = _Copying(source.stream, document)
    limit = settings.import_max_item_bytes
    reader = UnitReader(
        copy, source.name, limit, forbid_dtd=False, build=False, charset=source.charset
    )
    entries = 0
    try:
        for unit in reader.units():
            local = unit.tag.rsplit("}", 1)[-1]
            if local == "wxr_version":
                raise ImportFailed(
                    f"{source.name} is a WordPress export: use `feeds import wxr`, which reads "
                    "its drafts, scheduled posts, pages and authors for what they are"
                )
            if local in ENTRY_TAGS:
                entries += 1
            if unit.oversize:
                what = f"{local} {entries}" if local in ENTRY_TAGS else f"its <{local}>"
                raise InputTooLarge(
                    f"{source.name}: {what} is larger than import_max_item_bytes "
                    f"({size_text(limit)}): refused, nothing was imported"
                )
    except MalformedXML as error:
        if reader.root is None and not isinstance(error, EmptyDocument):  # not XML at all
            raise ImportFailed(
                f"{source.name} is not an RSS or Atom feed ({error.detail})"
            ) from None
        raise
    return document.getvalue()


class _Copying:
    """A binary stream that keeps a copy of what is read from it."""

    def __init__(self, stream: IO[bytes], copy: io.BytesIO) -> None:
        self._stream = stream
        self._copy = copy

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._copy.write(data)
        return data


def _record(position: str, entry: Any, entry_id: str | None, language: str) -> Record:
    if not entry_id:
        return Record(position, invalid="no id or link to identify it by")
    published = _utc(entry.get("published_parsed") or dict.get(entry, "updated_parsed"))
    if published is None:
        return Record(position, invalid="no date")
    link = entry.get("link", "")
    title = _text(entry, "title")
    contents = entry.get("content") or []
    content = contents[0].get("value", "") if contents else entry.get("summary", "")
    # feedparser copies an Atom entry's content into a missing summary: that is no summary.
    has_summary = bool(contents) and entry.get("summary", "") != content
    media = _media(entry, link)
    return Record(
        position,
        warnings=tuple(media.warnings),
        post=PostInput(
            title=title,
            slug=_last_segment(link) or slugify(title),
            language=language,
            summary=_text(entry, "summary") if has_summary else "",
            content_html=clean_foreign_html(content, link),
            published=published,
            updated=_utc(dict.get(entry, "updated_parsed")),
            categories=[
                TermInput(slugify(tag.term), tag.get("label") or tag.term)
                for tag in entry.get("tags") or []
                if tag.get("term") and slugify(tag.term)
            ],
            authors=[
                AuthorInput(
                    author.get("name") or author["email"], author.get("email"), author.get("href")
                )
                for author in entry.get("authors") or []
                if author.get("name") or author.get("email")
            ],
            entry_id=entry_id,
            image=media.image,
            enclosures=media.enclosures,
        ),
    )


def _media(entry: Any, link: str) -> ForeignMedia:
    """The entry's enclosures (RSS <enclosure>, Atom rel="enclosure") and Media RSS: a
    media:content is the image when it is one (medium="image" or an image/* type), else an
    enclosure; a media:thumbnail is the image when no media:content is."""
    media = ForeignMedia(link)
    for enclosure in entry.get("enclosures") or []:
        media.add_enclosure(
            enclosure.get("href", ""), enclosure.get("type"), enclosure.get("length")
        )
    images = []
    for content in entry.get("media_content") or []:
        kind = content.get("type") or ""
        if content.get("medium") == "image" or kind.startswith("image/"):
            images.append(content)
        else:
            media.add_enclosure(content.get("url", ""), kind, content.get("filesize"))
    for image in images + (entry.get("media_thumbnail") or []):
        media.offer_image(image.get("url", ""), "", image.get("width"), image.get("height"))
    return media


def _own_language(entry: Any) -> str | None:
    """The language an entry says it is in (RSS dc:language, Atom xml:lang), if any."""
    return entry.get("language") or (entry.get("title_detail") or {}).get("language")


def _text(entry: Any, name: str) -> str:
    """A text field as plain text, whether the feed gave it as text or as HTML."""
    value = entry.get(name, "")
    detail = entry.get(f"{name}_detail") or {}
    return plain_text(value) if detail.get("type") in HTML_TYPES else value.strip()


def _utc(moment: time.struct_time | None) -> datetime | None:
    """feedparser's parsed date (a UTC struct_time) as a datetime."""
    return datetime(*moment[:6], tzinfo=UTC) if moment else None


def _last_segment(link: str) -> str:
    """The last path segment of a post's link (``…/2020/05/hello-world/`` → ``hello-world``)."""
    return unquote(urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1])


FEED_IMPORTER = Importer(feed_records, free_slugs=True)
