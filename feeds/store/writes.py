"""The one write path: every writer (demo, CLI, later the API and importers) goes through here.

It validates, cleans text that XML 1.0 cannot hold and HTML that is unsafe, assigns a
post's entry id once, and keeps the scope index (ScopeEntry) in step with each post.
The caller owns the transaction: it commits, or rolls everything back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

import nh3
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feeds.store.models import Author, Category, Post, PostStatus, ScopeEntry, scope_key

# Characters XML 1.0 cannot carry (C0 controls but tab/newline/return, surrogates, U+FFFE/F).
_NOT_XML_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SLUG = re.compile(r"^[^\s/?#]{1,200}$")
MAX_TITLE_LENGTH = 1000


class InvalidPost(ValueError):
    """A post cannot be stored as given; ``field`` names the culprit."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


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
    categories: Sequence[str] = field(default_factory=tuple)
    authors: Sequence[str] = field(default_factory=tuple)
    entry_id: str | None = None


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _NOT_XML_CHARS.sub("", text)


def new_entry_id() -> str:
    """A fresh, globally unique entry id for a new post."""
    return f"urn:uuid:{uuid.uuid4()}"


def ensure_category(session: Session, slug: str, name: str | None = None) -> Category:
    """The category with this slug, created (named ``name``, else the slug) if missing."""
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        if not _SLUG.match(slug):
            raise InvalidPost("categories", f"{slug!r} is not a valid category slug")
        category = Category(slug=slug, name=xml_safe(name or slug))
        session.add(category)
        session.flush()
    return category


def ensure_author(session: Session, name: str) -> Author:
    """The author with this name, created if missing."""
    name = xml_safe(name).strip()
    if not name:
        raise InvalidPost("authors", "an author needs a name")
    author = session.scalar(select(Author).where(Author.name == name))
    if author is None:
        author = Author(name=name)
        session.add(author)
        session.flush()
    return author


def find_post(session: Session, language: str, slug: str) -> Post | None:
    """The post with this slug in this language, if there is one."""
    return session.scalar(select(Post).where(Post.language == language, Post.slug == slug))


def create_post(
    session: Session, data: PostInput, *, languages: Collection[str], now: datetime | None = None
) -> Post:
    """Store a new post, giving it its entry id for ever."""
    now = now or datetime.now(UTC)
    cleaned = _clean(data, languages, now)
    post = Post(
        entry_id=cleaned.entry_id or new_entry_id(),
        created=now,
        **_scalar_fields(cleaned),
    )
    # A post written before (an import, a backdated post) was last changed when it was published.
    post.updated = cleaned.updated or cleaned.published or now
    post.categories = [ensure_category(session, slug) for slug in cleaned.categories]
    post.authors = [ensure_author(session, name) for name in cleaned.authors]
    session.add(post)
    session.flush()
    _index(session, post)
    return post


def update_post(
    session: Session,
    post: Post,
    data: PostInput,
    *,
    languages: Collection[str],
    now: datetime | None = None,
) -> bool:
    """Change a post to ``data``; its entry id stays. Returns whether anything changed.

    ``updated`` moves only when the post really changes. ``post`` must have been loaded
    with its categories and authors.
    """
    now = now or datetime.now(UTC)
    cleaned = _clean(data, languages, now)
    if cleaned.entry_id is not None and cleaned.entry_id != post.entry_id:
        raise InvalidPost("entry_id", "a post's entry id never changes")
    changed = False
    for name, value in _scalar_fields(cleaned).items():
        if getattr(post, name) != value:
            setattr(post, name, value)
            changed = True
    if [c.slug for c in post.categories] != sorted(cleaned.categories):
        post.categories = [ensure_category(session, slug) for slug in cleaned.categories]
        changed = True
    if [a.name for a in post.authors] != sorted(cleaned.authors):
        post.authors = [ensure_author(session, name) for name in cleaned.authors]
        changed = True
    if changed:
        post.updated = cleaned.updated or now
        session.flush()
        _index(session, post)
    return changed


def _scalar_fields(data: PostInput) -> dict[str, object]:
    set_apart = {"categories", "authors", "entry_id", "updated"}
    return {f.name: getattr(data, f.name) for f in fields(data) if f.name not in set_apart}


def _clean(data: PostInput, languages: Collection[str], now: datetime) -> PostInput:
    title = xml_safe(data.title).strip()
    if not title:
        raise InvalidPost("title", "must not be empty")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidPost("title", f"longer than {MAX_TITLE_LENGTH} characters")
    if not _SLUG.match(data.slug):
        raise InvalidPost("slug", f"{data.slug!r} must be 1-200 characters without spaces or /?#")
    if data.language not in languages:
        raise InvalidPost("language", f"{data.language!r} is not one of {', '.join(languages)}")
    published, updated = data.published, data.updated
    for name, value in (("published", published), ("updated", updated)):
        if value is not None and value.tzinfo is None:
            raise InvalidPost(name, "needs a time zone")
    if data.status is PostStatus.PUBLISHED and published is None:
        published = now
    return PostInput(
        title=title,
        slug=data.slug,
        language=data.language,
        summary=xml_safe(data.summary).strip(),
        content_html=nh3.clean(xml_safe(data.content_html)),
        status=PostStatus(data.status),
        published=published.astimezone(UTC) if published else None,
        updated=updated.astimezone(UTC) if updated else None,
        categories=sorted(set(data.categories)),
        authors=sorted({xml_safe(name).strip() for name in data.authors}),
        entry_id=data.entry_id,
    )


def _index(session: Session, post: Post) -> None:
    """Make the post's ScopeEntry rows match its status, date, language and categories."""
    session.execute(delete(ScopeEntry).where(ScopeEntry.post_id == post.id))
    if post.status is not PostStatus.PUBLISHED or post.published is None:
        return
    scopes = [scope_key(), scope_key(language=post.language)]
    for category in post.categories:
        scopes += [scope_key(category.id), scope_key(category.id, post.language)]
    session.add_all(
        ScopeEntry(scope=scope, published=post.published, post_id=post.id) for scope in scopes
    )
    session.flush()
