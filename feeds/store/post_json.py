"""The JSON form of a post: what the admin API takes and returns, and what JSON Lines
import and export read and write, one post per line.

    {"id": 12, "entry_id": "urn:uuid:…", "external_id": "cms-42",
     "url": "https://…/blog/my-post", "title": "…", "slug": "my-post", "language": "en",
     "status": "published", "published": "2024-05-01T09:00:00+00:00",
     "updated": "2024-05-02T10:00:00+00:00", "created": "…",
     "summary": "plain text", "content_html": "<p>…</p>",
     "categories": [{"slug": "tech", "name": "Tech"}], "tags": [{"slug": "ai", "name": "AI"}],
     "authors": [{"name": "Ada", "email": null, "uri": null}],
     "image": {"url": "https://…/cover.jpg", "alt": "…", "width": 1200, "height": 630},
     "enclosures": [{"url": "https://…/episode-1.mp3", "type": "audio/mpeg",
                     "length": 24986239}]}

On input, ``id``, ``url`` and ``created`` are read-only and ignored; categories and tags
may be given as slugs and authors as names; dates are RFC 3339 date-times with a time
zone. ``image`` may be null or left out (no image); its ``alt``, ``width`` and ``height``,
and an enclosure's ``length``, may be null or left out (unknown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from dateutil import parser as date_parser

from feeds.serving.content import Image
from feeds.serving.links import SiteLinks
from feeds.store.models import Post, PostStatus
from feeds.store.queries import post_image
from feeds.store.validation import (
    AuthorInput,
    EnclosureInput,
    ImageInput,
    InvalidInput,
    PostInput,
    TermInput,
)
from feeds.text import printable

T = TypeVar("T")

READ_ONLY_FIELDS = frozenset({"id", "url", "created"})
TEXT_FIELDS = ("title", "slug", "language", "summary", "content_html", "entry_id", "external_id")
KNOWN_FIELDS = frozenset(
    {
        *READ_ONLY_FIELDS,
        *TEXT_FIELDS,
        "status",
        "published",
        "updated",
        "categories",
        "tags",
        "authors",
        "image",
        "enclosures",
    }
)
IMAGE_FIELDS = frozenset({"url", "alt", "width", "height"})
ENCLOSURE_FIELDS = frozenset({"url", "type", "length"})
REQUIRED_FIELDS = ("title", "language")
# RFC 3339 section 5.6 date-time: a full date, a full time and a time zone (Z or ±hh:mm).
# The space instead of T is the one liberty its note allows.
RFC3339_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def post_to_json(post: Post, links: SiteLinks) -> dict[str, Any]:
    """The JSON form of a stored post (loaded with post_query's relations)."""
    return {
        "id": post.id,
        "entry_id": post.entry_id,
        "external_id": post.external_id,
        "url": links.post(post.slug, post.language),
        "title": post.title,
        "slug": post.slug,
        "language": post.language,
        "status": post.status.value,
        "published": _iso(post.published),
        "updated": _iso(post.updated),
        "created": _iso(post.created),
        "summary": post.summary,
        "content_html": post.content_html,
        "categories": [{"slug": c.slug, "name": c.name} for c in post.categories],
        "tags": [{"slug": t.slug, "name": t.name} for t in post.tags],
        "authors": [{"name": a.name, "email": a.email, "uri": a.uri} for a in post.authors],
        "image": _image_json(post_image(post)),
        "enclosures": [
            {"url": e.url, "type": e.media_type, "length": e.length} for e in post.enclosures
        ],
    }


def post_from_json(document: Any) -> PostInput:
    """A PostInput from the JSON form; InvalidInput names the first bad field."""
    if not isinstance(document, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    unknown = sorted(set(document) - KNOWN_FIELDS)
    if unknown:
        raise InvalidInput(unknown[0], "unknown field")
    for name in REQUIRED_FIELDS:
        if document.get(name) in (None, ""):
            raise InvalidInput(name, "is required")
    text = {name: _string(document, name) for name in TEXT_FIELDS}
    status = document.get("status", PostStatus.PUBLISHED.value)
    if not isinstance(status, str) or status not in {s.value for s in PostStatus}:
        raise InvalidInput("status", "must be 'draft' or 'published'")
    return PostInput(
        title=text["title"] or "",
        slug=text["slug"] or "",
        language=text["language"] or "",
        summary=text["summary"] or "",
        content_html=text["content_html"] or "",
        status=PostStatus(status),
        published=parse_datetime("published", document.get("published")),
        updated=parse_datetime("updated", document.get("updated")),
        categories=_terms(document, "categories"),
        tags=_terms(document, "tags"),
        authors=_authors(document),
        entry_id=text["entry_id"],
        external_id=text["external_id"],
        image=_image(document.get("image")),
        enclosures=_enclosures(document),
    )


def merged_with(post: Post, links: SiteLinks, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of ``post`` with ``changes`` applied: a partial update (PATCH).

    ``updated`` is not carried over, so that a real change moves it."""
    document = {k: v for k, v in post_to_json(post, links).items() if k != "updated"}
    document.update(changes)
    return document


def parse_datetime(name: str, value: Any) -> datetime | None:
    """A time-zoned datetime from an RFC 3339 date-time (``2024-05-01T09:00:00+02:00``,
    ``…Z``), or None for null. Nothing looser: "monday 9am" or "1/2/2024" would be guesses."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, "must be a date-time string")
    if not RFC3339_DATE_TIME.fullmatch(value):
        raise InvalidInput(
            name,
            f"{printable(value, 60)!r} is not an RFC 3339 date-time with a time zone "
            "(like 2024-05-01T09:00:00Z or 2024-05-01T09:00:00+02:00)",
        )
    try:
        parsed = date_parser.isoparse(value)
        parsed.astimezone(UTC)  # raises on a date UTC cannot hold (year 1 at +14:00)
    except (ValueError, OverflowError):
        raise InvalidInput(name, f"{value!r} is not a date") from None
    return parsed


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _string(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    return value


def _list(document: Mapping[str, Any], name: str) -> list[Any]:
    value = document.get(name) or []
    if not isinstance(value, list):
        raise InvalidInput(name, "must be a list")
    return value


def _terms(document: Mapping[str, Any], name: str) -> list[TermInput]:
    terms = []
    for item in _list(document, name):
        if isinstance(item, str):
            terms.append(TermInput(item))
        elif isinstance(item, Mapping) and isinstance(item.get("slug"), str):
            label = item.get("name")
            if label is not None and not isinstance(label, str):
                raise InvalidInput(name, "a name must be a string")
            terms.append(TermInput(item["slug"], label))
        else:
            raise InvalidInput(name, 'each must be a slug or {"slug": …, "name": …}')
    return terms


def _authors(document: Mapping[str, Any]) -> list[AuthorInput]:
    authors = []
    for item in _list(document, "authors"):
        if isinstance(item, str):
            authors.append(AuthorInput(item))
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            extra = {key: item.get(key) for key in ("email", "uri")}
            if any(value is not None and not isinstance(value, str) for value in extra.values()):
                raise InvalidInput("authors", "email and uri must be strings")
            authors.append(AuthorInput(item["name"], extra["email"], extra["uri"]))
        else:
            raise InvalidInput("authors", 'each must be a name or {"name": …}')
    return authors


def _image_json(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {"url": image.url, "alt": image.alt, "width": image.width, "height": image.height}


def _image(value: Any) -> ImageInput | None:
    if value is None:
        return None
    image = _object("image", value, IMAGE_FIELDS)
    return ImageInput(
        url=_required_string("image.url", image.get("url")),
        alt=_optional(str, "image.alt", image.get("alt")) or "",
        width=_optional(int, "image.width", image.get("width")),
        height=_optional(int, "image.height", image.get("height")),
    )


def _enclosures(document: Mapping[str, Any]) -> list[EnclosureInput]:
    enclosures = []
    for number, value in enumerate(_list(document, "enclosures")):
        name = f"enclosures[{number}]"
        enclosure = _object(name, value, ENCLOSURE_FIELDS)
        enclosures.append(
            EnclosureInput(
                url=_required_string(f"{name}.url", enclosure.get("url")),
                media_type=_required_string(f"{name}.type", enclosure.get("type")),
                length=_optional(int, f"{name}.length", enclosure.get("length")),
            )
        )
    return enclosures


def _object(name: str, value: Any, fields: frozenset[str]) -> Mapping[str, Any]:
    """``value`` if it is a JSON object of no other ``fields``."""
    if not isinstance(value, Mapping):
        raise InvalidInput(name, f"must be an object with {', '.join(sorted(fields))}")
    unknown = sorted(set(value) - fields)
    if unknown:
        raise InvalidInput(f"{name}.{unknown[0]}", "unknown field")
    return value


def _required_string(name: str, value: Any) -> str:
    if value in (None, ""):
        raise InvalidInput(name, "is required")
    text = _optional(str, name, value)
    return text or ""


def _optional(kind: type[T], name: str, value: Any) -> T | None:
    """``value`` if it is null or a ``kind`` (a JSON string, or a whole number: not true)."""
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidInput(name, "must be a string" if kind is str else "must be a whole number")
    return value
