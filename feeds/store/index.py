"""The scope index: which feed scopes a post shows in, its ScopeEntry rows, and the
revisions that tell every process a scope changed.

A published post has a row in the site scope, and in each of its categories', tags' and
authors' scopes, each alone and in its language (feeds.store.scopes names them). Every
feed reads its scope's rows with one range scan, and every write moves the revision of
each scope it touched (and the store's), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feeds.serving.spec import ScopeKind
from feeds.settings import Settings
from feeds.store.archives import seal_archives
from feeds.store.models import STORE_SCOPE, Post, PostStatus, ScopeEntry, ScopeRevision
from feeds.store.outbox import record_changes, record_every_scope
from feeds.store.scopes import scope_key


def post_scopes(post: Post) -> list[str]:
    """Every feed scope a published post shows in (``scopes_of``). Its categories, tags
    and authors must be loaded."""
    return scopes_of(
        post.language,
        [category.id for category in post.categories],
        [tag.id for tag in post.tags],
        [author.id for author in post.authors],
    )


def scopes_of(
    language: str,
    category_ids: Iterable[int] = (),
    tag_ids: Iterable[int] = (),
    author_ids: Iterable[int] = (),
) -> list[str]:
    """The feed scopes of a published post in ``language`` with these terms: the site's,
    and each of its categories', tags' and authors', each alone and in its language."""
    terms = [
        (ScopeKind.SITE, None),
        *((ScopeKind.CATEGORY, term_id) for term_id in category_ids),
        *((ScopeKind.TAG, term_id) for term_id in tag_ids),
        *((ScopeKind.AUTHOR, term_id) for term_id in author_ids),
    ]
    return [
        scope_key(kind, term_id, in_language)
        for kind, term_id in terms
        for in_language in (None, language)
    ]


def live_scopes(post: Post) -> list[str]:
    """The scopes a post shows in now (none for a draft)."""
    return post_scopes(post) if is_live(post.status, post.published) else []


def is_live(status: PostStatus, published: datetime | None) -> bool:
    """Whether a post of this status and publication date has feed scopes: a published one
    (a future date too: the index keeps it back until it is due)."""
    return status is PostStatus.PUBLISHED and published is not None


def reindex(
    session: Session, post: Post, old_scopes: list[str], now: datetime, settings: Settings
) -> None:
    """Make the post's ScopeEntry rows match it, and move the revisions of old and new scopes
    (sealing their full archives, by ``settings``)."""
    session.execute(delete(ScopeEntry).where(ScopeEntry.post_id == post.id))
    new_scopes = live_scopes(post)
    session.add_all(
        ScopeEntry(scope=scope, published=post.published, post_id=post.id) for scope in new_scopes
    )
    session.flush()
    touch_scopes(session, [*old_scopes, *new_scopes], now, settings)


def touch_scopes(
    session: Session, scopes: Iterable[str], now: datetime, settings: Settings | None
) -> None:
    """Move on the store's revision, give each touched scope that revision, record the
    change in the outbox for the senders (feeds/push/), and seal the archives that are now
    full in the archive scopes among them (feeds.store.archives: ``settings`` says their
    sizes; None only for a write that touches no scope, as making a category).

    Revisions come from one counter for the whole store, so that no two states of any scopes
    share a number: a category made again under a deleted one's slug (a new scope, its
    revision starting afresh) can never be taken for the old one's cached feed."""
    touched = sorted(set(scopes) - {STORE_SCOPE})
    # First: the store's revision row is locked until the transaction ends, so concurrent
    # writers seal one after the other, each seeing the bounds the one before wrote.
    revision = _next_store_revision(session, now)
    if settings is not None:
        seal_archives(session, touched, settings, now)
    elif touched:
        raise ValueError("a write that touches feed scopes seals their archives: pass settings")
    record_changes(session, touched, now)
    rows = [{"scope": scope, "revision": revision, "changed": now} for scope in touched]
    if not rows:
        return
    statement = dialect_insert(session)(ScopeRevision).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[ScopeRevision.scope],
            set_={"revision": statement.excluded.revision, "changed": statement.excluded.changed},
        )
    )


def touch_every_scope(session: Session, now: datetime) -> None:
    """Move on every scope's revision: for changes any entry may show (a category's name)."""
    revision = _next_store_revision(session, now)
    record_every_scope(session, now)
    session.execute(update(ScopeRevision).values(revision=revision, changed=now))


def _next_store_revision(session: Session, now: datetime) -> int:
    """The store's revision, moved on by one (the row is locked until the transaction ends,
    so concurrent writers draw distinct numbers)."""
    statement = dialect_insert(session)(ScopeRevision).values(
        scope=STORE_SCOPE, revision=1, changed=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[ScopeRevision.scope],
        set_={"revision": ScopeRevision.revision + 1, "changed": statement.excluded.changed},
    ).returning(ScopeRevision.revision)
    return int(session.execute(statement).scalar_one())


def dialect_insert(session: Session) -> Callable[[Any], Any]:
    """The database's own insert(), which knows ON CONFLICT."""
    return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[
        session.get_bind().dialect.name
    ]
