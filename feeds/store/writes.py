"""The one write path for posts: every writer (API, CLI, importers, demo) goes through here
(categories, tags and authors: feeds.store.taxonomy; many new posts at once: feeds.store.bulk).

Each function validates and cleans its input (feeds.store.validation), keeps the scope
index and the tombstones in step, and moves the revision of every scope it touches
(feeds.store.index). Functions flush but never commit: the caller owns
the transaction, so that a call (or an import batch) is stored whole or not at all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feeds.serving.links import SiteLinks
from feeds.settings import Settings
from feeds.store.cleaning import first_free
from feeds.store.index import live_scopes, reindex, touch_scopes
from feeds.store.models import (
    Category,
    DeletedEntry,
    Post,
    PostEnclosure,
    ScopeEntry,
    StoreMeta,
    Tag,
)
from feeds.store.queries import post_query
from feeds.store.taxonomy import stored_author, stored_term
from feeds.store.validation import (
    CleanPost,
    Conflict,
    EnclosureInput,
    InvalidInput,
    PostInput,
    clean_post,
    identifier,
)


class WriteOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def new_entry_id() -> str:
    """A fresh, globally unique entry id for a new post."""
    return f"urn:uuid:{uuid.uuid4()}"


def new_post_columns(cleaned: CleanPost, entry_id: str, now: datetime) -> dict[str, object]:
    """The columns of a new post: its own, its entry id, and when it was created and updated.

    A post written before (an import, a backdated post) was last changed when it was
    published."""
    updated = cleaned.updated or cleaned.published or now
    return {**cleaned.columns(), "entry_id": entry_id, "created": now, "updated": updated}


def enclosure_row(enclosure: EnclosureInput, position: int) -> dict[str, object]:
    """The columns of an enclosure's row, but its post."""
    return {
        "position": position,
        "url": enclosure.url,
        "media_type": enclosure.media_type,
        "length": enclosure.length,
    }


def revive_entries(session: Session, entry_ids: Sequence[str]) -> None:
    """Drop the tombstones of these entry ids: a post created again after its deletion is
    alive again."""
    if entry_ids:
        session.execute(delete(DeletedEntry).where(DeletedEntry.entry_id.in_(entry_ids)))


# --- posts -----------------------------------------------------------------------------


def create_post(
    session: Session, settings: Settings, data: PostInput, now: datetime | None = None
) -> Post:
    """Store a new post, giving it its entry id for ever (``data.entry_id`` if given)."""
    now = now or datetime.now(UTC)
    cleaned = clean_post(data, settings, default_published=now)
    entry_id = cleaned.entry_id or new_entry_id()
    if session.scalar(select(Post.id).where(Post.entry_id == entry_id)) is not None:
        raise Conflict("entry_id", f"{entry_id!r} is already the id of another post")
    _check_free(session, cleaned)
    post = Post(**new_post_columns(cleaned, entry_id, now))
    _set_relations(session, post, cleaned)
    session.add(post)
    session.flush()
    revive_entries(session, [entry_id])
    reindex(session, post, old_scopes=[], now=now, settings=settings)
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
    cleaned = clean_post(data, settings, default_published=post.published or now)
    if cleaned.entry_id is not None and cleaned.entry_id != post.entry_id:
        raise InvalidInput("entry_id", "a post's entry id never changes")
    _check_free(session, cleaned, post)
    old_scopes = live_scopes(post)
    changed = False
    for name, value in cleaned.columns().items():
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
        reindex(session, post, old_scopes, now, settings)
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
    external_id = identifier("external_id", data.external_id)
    entry_id = identifier("entry_id", data.entry_id)
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
    scopes = live_scopes(post)
    link = SiteLinks(settings).post(post.slug, post.language)
    session.add_all(
        DeletedEntry(scope=scope, deleted=now, entry_id=post.entry_id, link=link)
        for scope in scopes
    )
    session.execute(delete(ScopeEntry).where(ScopeEntry.post_id == post.id))
    session.delete(post)
    session.flush()
    touch_scopes(session, scopes, now, settings)


def available_slug(session: Session, language: str, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… if another post of the language has it."""
    return first_free(
        wanted,
        lambda slug: (
            session.scalar(select(Post.id).where(Post.language == language, Post.slug == slug))
            is not None
        ),
    )


# --- store facts and revisions ---------------------------------------------------------


def set_store_fact(session: Session, key: str, value: str) -> None:
    """Record a fact about the store (``wordpress_imported`` = ``yes``)."""
    fact = session.get(StoreMeta, key)
    if fact is None:
        session.add(StoreMeta(key=key, value=value))
    else:
        fact.value = value
    session.flush()


# --- inside ----------------------------------------------------------------------------


def _relations_differ(post: Post, data: CleanPost) -> bool:
    return (
        [c.slug for c in post.categories] != [c.slug for c in data.categories]
        or [t.slug for t in post.tags] != [t.slug for t in data.tags]
        or [a.name for a in post.authors] != [a.name for a in data.authors]
        or [(e.url, e.media_type, e.length) for e in post.enclosures]
        != [(e.url, e.media_type, e.length) for e in data.enclosures]
    )


def _set_relations(session: Session, post: Post, data: CleanPost) -> None:
    post.categories = [stored_term(session, Category, term) for term in data.categories]
    post.tags = [stored_term(session, Tag, term) for term in data.tags]
    post.authors = [stored_author(session, author) for author in data.authors]
    _set_enclosures(post, data.enclosures)


def _set_enclosures(post: Post, enclosures: Sequence[EnclosureInput]) -> None:
    """The post's enclosures made ``enclosures``, reusing the row at each position: a new
    row at a position whose old row the flush deletes would be inserted first, and clash."""
    rows = list(post.enclosures)
    kept = []
    for position, enclosure in enumerate(enclosures):
        row = rows[position] if position < len(rows) else PostEnclosure()
        for name, value in enclosure_row(enclosure, position).items():
            setattr(row, name, value)
        kept.append(row)
    post.enclosures = kept


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


def _check_free(session: Session, data: CleanPost, post: Post | None = None) -> None:
    """Conflict if another post has this slug in this language, or this external id."""
    others = select(Post.id).where(Post.id != post.id) if post else select(Post.id)
    if session.scalar(others.where(Post.language == data.language, Post.slug == data.slug)):
        raise Conflict("slug", f"another {data.language!r} post has the slug {data.slug!r}")
    if data.external_id and session.scalar(others.where(Post.external_id == data.external_id)):
        raise Conflict("external_id", f"another post has the external id {data.external_id!r}")
