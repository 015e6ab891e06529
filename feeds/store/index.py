"""The scope index: which feed scopes a post shows in, its ScopeEntry rows, and the
revisions that tell every process a scope changed.

A published post has a row in the site scope, its language's, and each of its categories'
alone and with its language. Every feed reads its scope's rows with one range scan, and
every write moves the revision of each scope it touched (and the store's), in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feeds.settings import Settings
from feeds.store.archives import seal_archives
from feeds.store.models import STORE_SCOPE, Post, PostStatus, ScopeEntry, ScopeRevision
from feeds.store.outbox import record_changes, record_every_scope


def scope_key(category_id: int | None = None, language: str | None = None) -> str:
    """The ScopeEntry key of a feed scope: ``site``, ``lang:fr``, ``cat:3``, ``cat:3/lang:fr``."""
    parts = []
    if category_id is not None:
        parts.append(f"cat:{category_id}")
    if language is not None:
        parts.append(f"lang:{language}")
    return "/".join(parts) or "site"


def scope_parts(scope: str) -> tuple[int | None, str | None]:
    """The category id and language of a scope key (``cat:3/lang:fr`` → (3, "fr"))."""
    category_id, language = None, None
    for part in scope.split("/"):
        kind, _, value = part.partition(":")
        if kind == "cat":
            category_id = int(value)
        elif kind == "lang":
            language = value
    return category_id, language


def post_scopes(post: Post) -> list[str]:
    """Every feed scope a published post shows in: site, its language, each category alone
    and with its language. ``post.categories`` must be loaded."""
    scopes = [scope_key(), scope_key(language=post.language)]
    for category in post.categories:
        scopes += [scope_key(category.id), scope_key(category.id, post.language)]
    return scopes


def live_scopes(post: Post) -> list[str]:
    """The scopes a post shows in now (none for a draft)."""
    if post.status is not PostStatus.PUBLISHED or post.published is None:
        return []
    return post_scopes(post)


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
