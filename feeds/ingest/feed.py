"""Import of an existing RSS or Atom feed (a file or a URL), parsed with feedparser.

An entry keeps its own id (RSS guid, Atom id) as its entry id, so that readers who follow
the old feed see no duplicates after the move; its link stands in when it has no id.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser

from feeds.ingest.languages import record_language, site_language
from feeds.ingest.runner import Importer, ImportFailed, Record
from feeds.ingest.safe_xml import refuse_hostile
from feeds.ingest.source import Source
from feeds.ingest.wxr import WORDPRESS_NAMESPACE
from feeds.settings import Settings
from feeds.store.cleaning import clean_html, plain_text, slugify
from feeds.store.writes import AuthorInput, PostInput, TermInput

HTML_TYPES = ("text/html", "application/xhtml+xml")


def feed_records(source: Source, settings: Settings, language: str | None) -> Iterator[Record]:
    """A Record for each entry of the feed, in the feed's order."""
    document = source.stream.read()  # feedparser reads a feed whole
    refuse_hostile(document, source.name)
    # The HTTP headers tell the charset. Relative links are resolved against each entry's
    # own link (below), not the feed's URL, so that a file and its URL import alike.
    headers = {key.lower(): value for key, value in source.headers.items()}
    parsed = feedparser.parse(document, response_headers=headers)
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        raise ImportFailed(
            f"{source.name} is not an RSS or Atom feed" + (f": {reason}" if reason else "")
        )
    if any(WORDPRESS_NAMESPACE.fullmatch(uri) for uri in parsed.namespaces.values()):
        raise ImportFailed(
            f"{source.name} is a WordPress export: use `feeds import wxr`, which reads its "
            "drafts, scheduled posts, pages and authors for what they are"
        )
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
    return Record(
        position,
        post=PostInput(
            title=title,
            slug=_last_segment(link) or slugify(title),
            language=language,
            summary=_text(entry, "summary") if has_summary else "",
            content_html=clean_html(content, link) if link else content,
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
        ),
    )


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
