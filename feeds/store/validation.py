"""Validation: what a writer hands in (PostInput), checked and cleaned into what the
store keeps (CleanPost), or refused with InvalidInput naming the field.

Cleaning removes what XML 1.0 cannot hold from every text, reduces HTML to an allow-list
with absolute links, and then checks once more that every text can be written in a feed:
whatever is stored renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from feeds.serving.links import SiteLinks
from feeds.serving.spec import COMBINING
from feeds.settings import Settings
from feeds.store.cleaning import (
    clean_html,
    excerpt,
    plain_text,
    renders_in_xml,
    slugify,
    xml_safe,
)
from feeds.store.models import PostStatus
from feeds.text import printable

_SLUG = re.compile(r"^[^\s/?#%\\]{1,200}$")
# A media type without parameters (RFC 6838 section 4.2): ``type/subtype``.
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
)
MAX_ENCLOSURES = 20
MAX_URL_LENGTH = 2000
# Bounds of the columns that keep them: pixels in an INTEGER, bytes in a BIGINT.
MAX_PIXELS = 2**31 - 1
MAX_BYTES = 2**63 - 1
_URI_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")

# Limits on what a post may hold, checked after cleaning.
MAX_LENGTHS = {
    "title": 1000,
    "summary": 10_000,
    "content_html": 1_000_000,
    "entry_id": 2000,
    "external_id": 200,
    "name": 200,
    "email": 320,
    "uri": 2000,
    "image.alt": 1000,
}


class InvalidInput(ValueError):
    """Input cannot be stored as given; ``field`` names the culprit, ``problem`` says why."""

    def __init__(self, field_name: str, problem: str) -> None:
        # Both may echo what was sent (an unknown field's name): keep them printable.
        field_name, problem = printable(field_name), printable(problem, limit=500)
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


class Conflict(InvalidInput):
    """Input clashes with what the store holds (a slug or id in use, a category in use)."""


@dataclass(frozen=True)
class AuthorInput:
    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class TermInput:
    """A category or tag: its slug, and its display name (the slug if None)."""

    slug: str
    name: str | None = None


@dataclass(frozen=True)
class ImageInput:
    """A post's image: an absolute http(s) URL, its alt text, its size in pixels if known."""

    url: str
    alt: str = ""
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class EnclosureInput:
    """A file that goes with a post: absolute http(s) URL, media type, length in bytes."""

    url: str
    media_type: str
    length: int | None = None


@dataclass
class PostInput:
    """A post as a writer hands it in. Datetimes must carry a time zone."""

    title: str
    slug: str
    language: str
    summary: str = ""
    content_html: str = ""
    status: PostStatus = PostStatus.PUBLISHED
    published: datetime | None = None
    updated: datetime | None = None
    categories: Sequence[TermInput] = field(default_factory=tuple)
    tags: Sequence[TermInput] = field(default_factory=tuple)
    authors: Sequence[AuthorInput] = field(default_factory=tuple)
    entry_id: str | None = None
    external_id: str | None = None
    image: ImageInput | None = None
    enclosures: Sequence[EnclosureInput] = field(default_factory=tuple)


@dataclass(frozen=True)
class CleanPost:
    """A post as the store keeps it: every text cleaned, dates in UTC, terms and authors
    deduplicated and sorted; ``published`` set for a published post."""

    title: str
    slug: str
    language: str
    summary: str
    content_html: str
    status: PostStatus
    published: datetime | None
    updated: datetime | None
    categories: tuple[TermInput, ...]
    tags: tuple[TermInput, ...]
    authors: tuple[AuthorInput, ...]
    entry_id: str | None
    external_id: str | None
    image: ImageInput | None = None
    enclosures: tuple[EnclosureInput, ...] = ()

    def columns(self) -> dict[str, object]:
        """The values of the post's own columns (not its relations, entry id or updated)."""
        image = self.image
        return {
            "title": self.title,
            "slug": self.slug,
            "language": self.language,
            "summary": self.summary,
            "content_html": self.content_html,
            "status": self.status,
            "published": self.published,
            "external_id": self.external_id,
            "image_url": image.url if image else None,
            "image_alt": image.alt if image else None,
            "image_width": image.width if image else None,
            "image_height": image.height if image else None,
        }


def clean_post(data: PostInput, settings: Settings, default_published: datetime) -> CleanPost:
    """``data`` validated and cleaned, as it will be stored; a published post without a
    date takes ``default_published``. InvalidInput names the first field at fault."""
    if data.language not in settings.languages:
        raise InvalidInput(
            "language", f"{data.language!r} is not one of {', '.join(settings.languages)}"
        )
    title = clean_text("title", data.title, required=True)
    slug = clean_slug("slug", data.slug if data.slug else slugify(title))
    try:
        status = PostStatus(data.status)
    except ValueError:
        raise InvalidInput("status", "must be 'draft' or 'published'") from None
    published = _aware("published", data.published)
    updated = _aware("updated", data.updated)
    if status is PostStatus.PUBLISHED and published is None:
        published = default_published
    entry_id = identifier("entry_id", data.entry_id)
    if entry_id is not None and not _URI_SCHEME.match(entry_id):
        raise InvalidInput("entry_id", "must be an absolute URI (tag:, urn:, http:…)")
    external_id = identifier("external_id", data.external_id)
    post_url = SiteLinks(settings).post(slug, data.language)
    content = clean_html(data.content_html or "", post_url)
    _check_length("content_html", content)
    summary = clean_text("summary", data.summary or "") or excerpt(plain_text(content))
    cleaned = CleanPost(
        title=title,
        slug=slug,
        language=data.language,
        summary=summary,
        content_html=content,
        status=status,
        published=published,
        updated=updated,
        categories=_terms(
            "categories", data.categories, settings.max_terms_per_post, clean_category_slug
        ),
        tags=_terms("tags", data.tags, settings.max_terms_per_post),
        authors=_authors(data.authors, settings.max_terms_per_post),
        entry_id=entry_id,
        external_id=external_id,
        image=_image(data.image),
        enclosures=_enclosures(data.enclosures),
    )
    _check_renders(cleaned)
    return cleaned


def _check_renders(post: CleanPost) -> None:
    """InvalidInput naming the field if any text of the cleaned post could not be written in
    a feed: the invariant that whatever is stored renders, checked once more after cleaning."""
    texts: list[tuple[str, str | None]] = [
        ("title", post.title),
        ("slug", post.slug),
        ("summary", post.summary),
        ("content_html", post.content_html),
        ("entry_id", post.entry_id),
        ("external_id", post.external_id),
    ]
    texts += [("categories", term.slug) for term in post.categories]
    texts += [("categories", term.name) for term in post.categories]
    texts += [("tags", term.slug) for term in post.tags]
    texts += [("tags", term.name) for term in post.tags]
    for author in post.authors:
        texts += [("authors", author.name), ("authors", author.email), ("authors", author.uri)]
    if post.image is not None:
        texts.append(("image.alt", post.image.alt))
    for name, text in texts:
        if text is not None and not renders_in_xml(text):
            raise InvalidInput(name, "holds characters a feed cannot carry")


def identifier(name: str, value: str | None) -> str | None:
    """An external or entry id as stored: stripped; refused (not silently changed) when it
    holds characters XML cannot carry, since a changed id would not be found again."""
    if not value or not value.strip():
        return None
    identifier = value.strip()
    if xml_safe(identifier) != identifier:
        raise InvalidInput(name, "must not contain control characters or non-characters")
    _check_length(name, identifier)
    return identifier


def clean_text(name: str, value: str, required: bool = False) -> str:
    text = xml_safe(value or "").strip()
    if required and not text:
        raise InvalidInput(name, "must not be empty")
    _check_length(name, text)
    return text


def _check_length(name: str, value: str) -> None:
    limit = MAX_LENGTHS.get(name, MAX_LENGTHS["name"])
    if len(value) > limit:
        raise InvalidInput(name, f"longer than {limit} characters")


def clean_slug(name: str, slug: str) -> str:
    """``slug`` stripped; InvalidInput unless it is a valid slug. A slug is an identifier:
    one with characters XML cannot hold is refused, not changed."""
    slug = slug.strip()
    if xml_safe(slug) != slug:
        raise InvalidInput(name, "must not contain control characters or non-characters")
    if not _SLUG.match(slug):
        raise InvalidInput(name, f"{slug!r} must be 1-200 characters without spaces or /?#%\\")
    return slug


def clean_category_slug(name: str, slug: str) -> str:
    """``clean_slug``, refusing also ``+``: it joins the categories of a combined feed's URL
    (/feeds/category/a+b.atom)."""
    slug = clean_slug(name, slug)
    if COMBINING in slug:
        raise InvalidInput(name, f"{slug!r}: a category slug cannot hold {COMBINING!r}")
    return slug


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, "needs a time zone (for example 2024-05-01T09:00:00+02:00)")
    return value.astimezone(UTC)


def _terms(
    name: str,
    terms: Sequence[TermInput],
    limit: int,
    cleaned_slug: Callable[[str, str], str] = clean_slug,
) -> tuple[TermInput, ...]:
    if len(terms) > limit:
        raise InvalidInput(name, f"more than {limit} on one post (max_terms_per_post)")
    by_slug: dict[str, TermInput] = {}
    for term in terms:
        slug = cleaned_slug(name, term.slug)
        label = clean_text(name, term.name) if term.name else None
        by_slug.setdefault(slug, TermInput(slug, label))
    return tuple(sorted(by_slug.values(), key=lambda term: term.slug))


def _authors(authors: Sequence[AuthorInput], limit: int) -> tuple[AuthorInput, ...]:
    if len(authors) > limit:
        raise InvalidInput("authors", f"more than {limit} on one post (max_terms_per_post)")
    by_name: dict[str, AuthorInput] = {}
    for author in authors:
        name = clean_text("authors", author.name, required=True)
        by_name.setdefault(
            name,
            AuthorInput(name, optional_email(author.email), optional_uri("authors", author.uri)),
        )
    return tuple(sorted(by_name.values(), key=lambda author: author.name))


def optional_email(email: str | None) -> str | None:
    if not email:
        return None
    email = xml_safe(email).strip()
    if "@" not in email or len(email) > MAX_LENGTHS["email"] or any(c.isspace() for c in email):
        raise InvalidInput("email", f"{email!r} is not an e-mail address")
    return email


def optional_uri(name: str, uri: str | None) -> str | None:
    if not uri:
        return None
    uri = xml_safe(uri).strip()
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(name, f"{uri!r} is not an absolute http(s) URL")
    return uri


def _image(image: ImageInput | None) -> ImageInput | None:
    if image is None:
        return None
    return ImageInput(
        url=media_url("image.url", image.url),
        alt=clean_text("image.alt", image.alt or ""),
        width=_count("image.width", image.width, MAX_PIXELS),
        height=_count("image.height", image.height, MAX_PIXELS),
    )


def _enclosures(enclosures: Sequence[EnclosureInput]) -> tuple[EnclosureInput, ...]:
    if len(enclosures) > MAX_ENCLOSURES:
        raise InvalidInput("enclosures", f"more than {MAX_ENCLOSURES} on one post")
    return tuple(
        EnclosureInput(
            url=media_url(f"enclosures[{number}].url", enclosure.url),
            media_type=media_type(f"enclosures[{number}].type", enclosure.media_type),
            length=_count(f"enclosures[{number}].length", enclosure.length, MAX_BYTES),
        )
        for number, enclosure in enumerate(enclosures)
    )


def media_url(name: str, url: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL a feed can carry as it is: no
    spaces or control characters inside, at most MAX_URL_LENGTH characters."""
    url = (url or "").strip()
    if not url:
        raise InvalidInput(name, "must not be empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(name, f"longer than {MAX_URL_LENGTH} characters")
    if xml_safe(url) != url or any(c.isspace() or not c.isprintable() for c in url):
        raise InvalidInput(name, "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(name, f"{url!r} is not an absolute http(s) URL")
    return url


def media_type(name: str, value: str) -> str:
    """``value`` in lower case, if it is a media type ``type/subtype`` (no parameters)."""
    value = (value or "").strip()
    if not _MEDIA_TYPE.fullmatch(value):
        raise InvalidInput(name, f"{value[:100]!r} is not a media type like audio/mpeg")
    return value.lower()


def _count(name: str, value: int | None, limit: int) -> int | None:
    """A size (pixels, bytes) if known: a whole number from 0 to ``limit``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise InvalidInput(name, f"must be a whole number from 0 to {limit}")
    return value
