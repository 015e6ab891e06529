"""The one write path: every writer (API, CLI, importers, demo) goes through here.

Each function validates its input, cleans it (characters XML 1.0 cannot hold, unsafe HTML,
relative links), keeps the scope index (ScopeEntry) and the tombstones in step, and moves
the revision of every scope it touches. Functions flush but never commit: the caller owns
the transaction, so that a call (or an import batch) is stored whole or not at all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from feeds.links import SiteLinks
from feeds.settings import Settings
from feeds.store.cleaning import (
    clean_html,
    excerpt,
    plain_text,
    printable,
    renders_in_xml,
    slugify,
    xml_safe,
)
from feeds.store.models import (
    STORE_SCOPE,
    Author,
    Base,
    Category,
    DeletedEntry,
    Post,
    PostStatus,
    ScopeEntry,
    ScopeRevision,
    StoreMeta,
    Tag,
    post_categories,
    post_scopes,
)

_SLUG = re.compile(r"^[^\s/?#%\\]{1,200}$")
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
}


_Term = TypeVar("_Term", Category, Tag)


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


class WriteOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


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


def new_entry_id() -> str:
    """A fresh, globally unique entry id for a new post."""
    return f"urn:uuid:{uuid.uuid4()}"


# --- posts -----------------------------------------------------------------------------


def post_query() -> Select[tuple[Post]]:
    """SELECT of posts with their categories, tags and authors loaded."""
    return select(Post).options(
        selectinload(Post.categories), selectinload(Post.tags), selectinload(Post.authors)
    )


def find_post(session: Session, language: str, slug: str) -> Post | None:
    """The post with this slug in this language, if there is one."""
    return session.scalar(post_query().where(Post.language == language, Post.slug == slug))


def create_post(
    session: Session, settings: Settings, data: PostInput, now: datetime | None = None
) -> Post:
    """Store a new post, giving it its entry id for ever (``data.entry_id`` if given)."""
    now = now or datetime.now(UTC)
    cleaned = _clean_post(data, settings, default_published=now)
    entry_id = cleaned.entry_id or new_entry_id()
    if session.scalar(select(Post.id).where(Post.entry_id == entry_id)) is not None:
        raise Conflict("entry_id", f"{entry_id!r} is already the id of another post")
    _check_free(session, cleaned)
    post = Post(entry_id=entry_id, created=now, **_scalar_fields(cleaned))
    # A post written before (an import, a backdated post) was last changed when it was published.
    post.updated = cleaned.updated or cleaned.published or now
    _set_relations(session, post, cleaned)
    session.add(post)
    session.flush()
    # A post imported again after its deletion is alive again: its tombstones go.
    session.execute(delete(DeletedEntry).where(DeletedEntry.entry_id == entry_id))
    _reindex(session, post, old_scopes=[], now=now)
    return post


def update_post(
    session: Session,
    settings: Settings,
    post: Post,
    data: PostInput,
    now: datetime | None = None,
) -> bool:
    """Change ``post`` to ``data``; its entry id stays. Returns whether anything changed.

    ``updated`` moves only when the post really changes (to ``data.updated`` if given).
    A published post sent again without a publication date keeps its own, so that sending
    the same document twice changes nothing. ``post`` must have been loaded with post_query().
    """
    now = now or datetime.now(UTC)
    cleaned = _clean_post(data, settings, default_published=post.published or now)
    if cleaned.entry_id is not None and cleaned.entry_id != post.entry_id:
        raise InvalidInput("entry_id", "a post's entry id never changes")
    _check_free(session, cleaned, post)
    old_scopes = _live_scopes(post)
    changed = False
    for name, value in _scalar_fields(cleaned).items():
        if name == "external_id" and value is None:
            continue  # an update that does not name the external id keeps it
        if getattr(post, name) != value:
            setattr(post, name, value)
            changed = True
    if _relations_differ(post, cleaned):
        _set_relations(session, post, cleaned)
        changed = True
    if changed:
        post.updated = cleaned.updated or now
        session.flush()
        _reindex(session, post, old_scopes, now)
    return changed


def upsert_post(
    session: Session,
    settings: Settings,
    data: PostInput,
    now: datetime | None = None,
    *,
    free_slug: bool = False,
) -> tuple[Post, WriteOutcome]:
    """Create the post, or update the one with the same external id (else entry id).

    This is how a CMS or an importer sends the same post twice without a duplicate.
    With ``free_slug``, a slug another post holds gives way to a free one instead of a
    Conflict: importers take foreign slugs that may clash with the store's.
    """
    # Looked up as they will be stored, so that the same request finds the same post again.
    external_id = _identifier("external_id", data.external_id)
    entry_id = _identifier("entry_id", data.entry_id)
    existing = None
    if external_id:
        existing = session.scalar(post_query().where(Post.external_id == external_id))
    if existing is None and entry_id:
        existing = session.scalar(post_query().where(Post.entry_id == entry_id))
    if free_slug:
        data = replace(data, slug=_free_slug(session, data, existing))
    if existing is None:
        return create_post(session, settings, data, now), WriteOutcome.CREATED
    changed = update_post(session, settings, existing, data, now)
    return existing, WriteOutcome.UPDATED if changed else WriteOutcome.UNCHANGED


def delete_post(
    session: Session, settings: Settings, post: Post, now: datetime | None = None
) -> None:
    """Delete a post. Feeds it showed in announce it (RFC 6721) for ``deleted_entries_days``."""
    now = now or datetime.now(UTC)
    scopes = _live_scopes(post)
    link = SiteLinks(settings).post(post.slug, post.language)
    session.add_all(
        DeletedEntry(scope=scope, deleted=now, entry_id=post.entry_id, link=link)
        for scope in scopes
    )
    session.execute(delete(ScopeEntry).where(ScopeEntry.post_id == post.id))
    session.delete(post)
    session.flush()
    touch_scopes(session, scopes, now)


def available_slug(session: Session, language: str, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… if another post of the language has it."""
    slug, number = wanted, 1
    while session.scalar(select(Post.id).where(Post.language == language, Post.slug == slug)):
        number += 1
        slug = f"{wanted[:190]}-{number}"
    return slug


# --- categories, tags and authors ------------------------------------------------------


def create_category(session: Session, slug: str, name: str) -> Category:
    """A new category; Conflict if the slug is taken."""
    slug = _slug("slug", slug)
    if session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        raise Conflict("slug", f"category {slug!r} already exists")
    category = Category(slug=slug, name=_text("name", name, required=True))
    session.add(category)
    session.flush()
    touch_scopes(session, [], datetime.now(UTC))
    return category


def ensure_category(session: Session, slug: str, name: str) -> Category:
    """The category with this slug, created with this name if missing."""
    slug = _slug("slug", slug)
    category = _term(session, Category, TermInput(slug, _text("name", name, required=True)))
    touch_scopes(session, [], datetime.now(UTC))  # so that every process learns of it
    return category


def rename_category(
    session: Session, category: Category, slug: str | None = None, name: str | None = None
) -> None:
    """Change a category's slug or name. Every feed may show it, so every revision moves."""
    if slug is not None and slug != category.slug:
        slug = _slug("slug", slug)
        if session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
            raise Conflict("slug", f"category {slug!r} already exists")
        category.slug = slug
    if name is not None:
        category.name = _text("name", name, required=True)
    session.flush()
    touch_every_scope(session, datetime.now(UTC))


def delete_category(
    session: Session, settings: Settings, category: Category, move_to: Category | None = None
) -> int:
    """Delete a category. Refused (Conflict) while posts use it, unless they move to
    ``move_to``. Returns how many posts moved."""
    post_ids = session.scalars(
        select(post_categories.c.post_id).where(post_categories.c.category_id == category.id)
    ).all()
    if post_ids and move_to is None:
        raise Conflict("category", f"{len(post_ids)} posts use {category.slug!r}; move them first")
    if move_to is not None and move_to.id == category.id:
        raise InvalidInput("move_to", "cannot move posts to the category being deleted")
    now = datetime.now(UTC)
    for post in session.scalars(post_query().where(Post.id.in_(post_ids))):
        old_scopes = _live_scopes(post)
        post.categories = [c for c in post.categories if c.id != category.id]
        if move_to is not None and move_to not in post.categories:
            post.categories.append(move_to)
        session.flush()
        _reindex(session, post, old_scopes, now)
    session.delete(category)
    session.flush()
    touch_every_scope(session, now)
    return len(post_ids)


def create_author(
    session: Session, name: str, email: str | None = None, uri: str | None = None
) -> Author:
    """A new author; Conflict if the name is taken."""
    name = _text("name", name, required=True)
    if session.scalar(select(Author.id).where(Author.name == name)) is not None:
        raise Conflict("name", f"author {name!r} already exists")
    author = Author(name=name, email=_optional_email(email), uri=_optional_uri("uri", uri))
    session.add(author)
    session.flush()
    return author


def update_author(
    session: Session,
    author: Author,
    name: str | None = None,
    email: str | None = None,
    uri: str | None = None,
) -> None:
    """Change an author's name, e-mail or URI. Every feed may show them, so every revision
    moves."""
    if name is not None:
        name = _text("name", name, required=True)
        taken = session.scalar(select(Author.id).where(Author.name == name, Author.id != author.id))
        if taken is not None:
            raise Conflict("name", f"author {name!r} already exists")
        author.name = name
    if email is not None:
        author.email = _optional_email(email)
    if uri is not None:
        author.uri = _optional_uri("uri", uri)
    session.flush()
    touch_every_scope(session, datetime.now(UTC))


# --- store facts and revisions ---------------------------------------------------------


def set_store_fact(session: Session, key: str, value: str) -> None:
    """Record a fact about the store (``wordpress_imported`` = ``yes``)."""
    fact = session.get(StoreMeta, key)
    if fact is None:
        session.add(StoreMeta(key=key, value=value))
    else:
        fact.value = value
    session.flush()


def touch_scopes(session: Session, scopes: Iterable[str], now: datetime) -> None:
    """Move on the revision of each scope, and of the whole store, in one statement."""
    rows = [
        {"scope": scope, "revision": 1, "changed": now} for scope in sorted({*scopes, STORE_SCOPE})
    ]
    statement = _dialect_insert(session)(ScopeRevision).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[ScopeRevision.scope],
            set_={"revision": ScopeRevision.revision + 1, "changed": statement.excluded.changed},
        )
    )


def touch_every_scope(session: Session, now: datetime) -> None:
    """Move on every scope's revision: for changes any entry may show (a category's name)."""
    session.execute(update(ScopeRevision).values(revision=ScopeRevision.revision + 1, changed=now))
    touch_scopes(session, [], now)


# --- inside ----------------------------------------------------------------------------


def _live_scopes(post: Post) -> list[str]:
    """The scopes a post shows in now (none for a draft)."""
    if post.status is not PostStatus.PUBLISHED or post.published is None:
        return []
    return post_scopes(post)


def _reindex(session: Session, post: Post, old_scopes: list[str], now: datetime) -> None:
    """Make the post's ScopeEntry rows match it, and move the revisions of old and new scopes."""
    session.execute(delete(ScopeEntry).where(ScopeEntry.post_id == post.id))
    new_scopes = _live_scopes(post)
    session.add_all(
        ScopeEntry(scope=scope, published=post.published, post_id=post.id) for scope in new_scopes
    )
    session.flush()
    touch_scopes(session, [*old_scopes, *new_scopes], now)


def _scalar_fields(data: PostInput) -> dict[str, object]:
    set_apart = {"categories", "tags", "authors", "entry_id", "updated"}
    return {f.name: getattr(data, f.name) for f in fields(data) if f.name not in set_apart}


def _relations_differ(post: Post, data: PostInput) -> bool:
    return (
        [c.slug for c in post.categories] != [c.slug for c in data.categories]
        or [t.slug for t in post.tags] != [t.slug for t in data.tags]
        or [a.name for a in post.authors] != [a.name for a in data.authors]
    )


def _set_relations(session: Session, post: Post, data: PostInput) -> None:
    post.categories = [_term(session, Category, term) for term in data.categories]
    post.tags = [_term(session, Tag, term) for term in data.tags]
    post.authors = [_author(session, author) for author in data.authors]


def _term(session: Session, model: type[_Term], term: TermInput) -> _Term:
    """The category or tag with this slug, created (with the given name) if missing."""
    _insert_if_missing(session, model, slug=term.slug, name=term.name or term.slug)
    return session.scalars(select(model).where(model.slug == term.slug)).one()


def _author(session: Session, data: AuthorInput) -> Author:
    """The author with this name, created if missing; a given e-mail or URI is recorded."""
    _insert_if_missing(session, Author, name=data.name)
    author = session.scalars(select(Author).where(Author.name == data.name)).one()
    if data.email is not None:
        author.email = data.email
    if data.uri is not None:
        author.uri = data.uri
    session.flush()
    return author


def _insert_if_missing(session: Session, model: type[Base], **values: str) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two writers creating the same category, tag or author
    at once both succeed, instead of one failing on the unique key."""
    statement = _dialect_insert(session)(model).values(**values).on_conflict_do_nothing()
    session.execute(statement)


def _dialect_insert(session: Session) -> Callable[[Any], Any]:
    """The database's own insert(), which knows ON CONFLICT."""
    return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[
        session.get_bind().dialect.name
    ]


def _free_slug(session: Session, data: PostInput, existing: Post | None) -> str:
    """``data.slug``, unless another post of the language holds it: then the numbered slug
    ``existing`` took last time (so that importing again changes nothing), else a free one."""
    wanted = data.slug.strip()
    holder = session.scalar(
        select(Post.id).where(Post.language == data.language, Post.slug == wanted)
    )
    if not wanted or holder is None or (existing is not None and holder == existing.id):
        return data.slug
    if (
        existing is not None
        and existing.language == data.language
        and re.fullmatch(rf"{re.escape(wanted[:190])}-\d+", existing.slug)
    ):
        return existing.slug
    return available_slug(session, data.language, wanted)


def _check_free(session: Session, data: PostInput, post: Post | None = None) -> None:
    """Conflict if another post has this slug in this language, or this external id."""
    others = select(Post.id).where(Post.id != post.id) if post else select(Post.id)
    if session.scalar(others.where(Post.language == data.language, Post.slug == data.slug)):
        raise Conflict("slug", f"another {data.language!r} post has the slug {data.slug!r}")
    if data.external_id and session.scalar(others.where(Post.external_id == data.external_id)):
        raise Conflict("external_id", f"another post has the external id {data.external_id!r}")


def _clean_post(data: PostInput, settings: Settings, default_published: datetime) -> PostInput:
    """``data`` validated and cleaned, as it will be stored; a published post without a
    date takes ``default_published``. InvalidInput names the first field at fault."""
    if data.language not in settings.languages:
        raise InvalidInput(
            "language", f"{data.language!r} is not one of {', '.join(settings.languages)}"
        )
    title = _text("title", data.title, required=True)
    slug = _slug("slug", data.slug if data.slug else slugify(title))
    try:
        status = PostStatus(data.status)
    except ValueError:
        raise InvalidInput("status", "must be 'draft' or 'published'") from None
    published = _aware("published", data.published)
    updated = _aware("updated", data.updated)
    if status is PostStatus.PUBLISHED and published is None:
        published = default_published
    entry_id = _identifier("entry_id", data.entry_id)
    if entry_id is not None and not _URI_SCHEME.match(entry_id):
        raise InvalidInput("entry_id", "must be an absolute URI (tag:, urn:, http:…)")
    external_id = _identifier("external_id", data.external_id)
    post_url = SiteLinks(settings).post(slug, data.language)
    content = clean_html(data.content_html or "", post_url)
    _check_length("content_html", content)
    summary = _text("summary", data.summary or "") or excerpt(plain_text(content))
    cleaned = PostInput(
        title=title,
        slug=slug,
        language=data.language,
        summary=summary,
        content_html=content,
        status=status,
        published=published,
        updated=updated,
        categories=_terms("categories", data.categories, settings.max_terms_per_post),
        tags=_terms("tags", data.tags, settings.max_terms_per_post),
        authors=_authors(data.authors, settings.max_terms_per_post),
        entry_id=entry_id,
        external_id=external_id,
    )
    _check_renders(cleaned)
    return cleaned


def _check_renders(post: PostInput) -> None:
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
    for name, text in texts:
        if text is not None and not renders_in_xml(text):
            raise InvalidInput(name, "holds characters a feed cannot carry")


def _identifier(name: str, value: str | None) -> str | None:
    """An external or entry id as stored: stripped; refused (not silently changed) when it
    holds characters XML cannot carry, since a changed id would not be found again."""
    if not value or not value.strip():
        return None
    identifier = value.strip()
    if xml_safe(identifier) != identifier:
        raise InvalidInput(name, "must not contain control characters or non-characters")
    _check_length(name, identifier)
    return identifier


def _text(name: str, value: str, required: bool = False) -> str:
    text = xml_safe(value or "").strip()
    if required and not text:
        raise InvalidInput(name, "must not be empty")
    _check_length(name, text)
    return text


def _check_length(name: str, value: str) -> None:
    limit = MAX_LENGTHS.get(name, MAX_LENGTHS["name"])
    if len(value) > limit:
        raise InvalidInput(name, f"longer than {limit} characters")


def _slug(name: str, slug: str) -> str:
    """``slug`` stripped; InvalidInput unless it is a valid slug. A slug is an identifier:
    one with characters XML cannot hold is refused, not changed."""
    slug = slug.strip()
    if xml_safe(slug) != slug:
        raise InvalidInput(name, "must not contain control characters or non-characters")
    if not _SLUG.match(slug):
        raise InvalidInput(name, f"{slug!r} must be 1-200 characters without spaces or /?#%\\")
    return slug


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, "needs a time zone (for example 2024-05-01T09:00:00+02:00)")
    return value.astimezone(UTC)


def _terms(name: str, terms: Sequence[TermInput], limit: int) -> list[TermInput]:
    if len(terms) > limit:
        raise InvalidInput(name, f"more than {limit} on one post (max_terms_per_post)")
    by_slug: dict[str, TermInput] = {}
    for term in terms:
        slug = _slug(name, term.slug)
        label = _text(name, term.name) if term.name else None
        by_slug.setdefault(slug, TermInput(slug, label))
    return sorted(by_slug.values(), key=lambda term: term.slug)


def _authors(authors: Sequence[AuthorInput], limit: int) -> list[AuthorInput]:
    if len(authors) > limit:
        raise InvalidInput("authors", f"more than {limit} on one post (max_terms_per_post)")
    by_name: dict[str, AuthorInput] = {}
    for author in authors:
        name = _text("authors", author.name, required=True)
        by_name.setdefault(
            name,
            AuthorInput(name, _optional_email(author.email), _optional_uri("authors", author.uri)),
        )
    return sorted(by_name.values(), key=lambda author: author.name)


def _optional_email(email: str | None) -> str | None:
    if not email:
        return None
    email = xml_safe(email).strip()
    if "@" not in email or len(email) > MAX_LENGTHS["email"] or any(c.isspace() for c in email):
        raise InvalidInput("email", f"{email!r} is not an e-mail address")
    return email


def _optional_uri(name: str, uri: str | None) -> str | None:
    if not uri:
        return None
    uri = xml_safe(uri).strip()
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(name, f"{uri!r} is not an absolute http(s) URL")
    return uri
