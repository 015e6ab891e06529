"""Bulk loading: many new posts by the write path's rules, a batch at a time.

For large imports and benchmarks. Each post is validated and cleaned exactly as
create_post does it (validation.clean_post, the one place that does), and gets its entry id
once; but the rows of a batch go in with one executemany per table, categories, tags and
authors are looked up once per call, and each scope's revision moves once per batch
instead of once per post. Like every write, it flushes and never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from feeds.settings import Settings
from feeds.store.index import live_scopes, touch_scopes
from feeds.store.models import (
    Category,
    DeletedEntry,
    Post,
    ScopeEntry,
    Tag,
    post_authors,
    post_categories,
    post_tags,
)
from feeds.store.taxonomy import stored_author, stored_term
from feeds.store.validation import (
    AuthorInput,
    CleanPost,
    Conflict,
    PostInput,
    TermInput,
    clean_post,
)
from feeds.store.writes import new_entry_id

Row = dict[str, Any]


def bulk_create_posts(
    session: Session,
    settings: Settings,
    inputs: Iterable[PostInput],
    batch: int = 2000,
    now: datetime | None = None,
) -> int:
    """Store new posts by create_post's rules, ``batch`` at a time; returns how many.

    A batch is cleaned and checked whole before any row of it is written: a bad input
    raises InvalidInput (or Conflict) naming the field, and nothing of its batch is kept.
    """
    loader = _BulkLoader(session, settings, now or datetime.now(UTC))
    return sum(loader.load(chunk) for chunk in _chunks(inputs, batch))


def _chunks(inputs: Iterable[PostInput], size: int) -> Iterator[list[PostInput]]:
    if size < 1:
        raise ValueError("batch must be at least 1")
    iterator = iter(inputs)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _BulkLoader:
    """One call's state: the session, and the ids of terms and authors seen so far."""

    def __init__(self, session: Session, settings: Settings, now: datetime) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.categories: dict[str, Category] = {}
        self.tags: dict[str, int] = {}
        self.authors: dict[AuthorInput, int] = {}
        self.scopes: dict[tuple[object, ...], list[str]] = {}

    def load(self, inputs: Sequence[PostInput]) -> int:
        """Write one batch: check it all, then insert posts, links and scope rows."""
        posts = [clean_post(data, self.settings, self.now) for data in inputs]
        _check_free(self.session, posts)
        entry_ids = [post.entry_id or new_entry_id() for post in posts]
        post_ids = self._insert_posts(posts, entry_ids)
        touched = self._insert_relations(posts, post_ids)
        given_ids = [post.entry_id for post in posts if post.entry_id]
        if given_ids:
            # A post imported again after its deletion is alive again: its tombstones go.
            self.session.execute(delete(DeletedEntry).where(DeletedEntry.entry_id.in_(given_ids)))
        touch_scopes(self.session, touched, self.now)
        return len(posts)

    def _insert_posts(self, posts: Sequence[CleanPost], entry_ids: Sequence[str]) -> list[int]:
        rows = [
            {
                **post.columns(),
                "entry_id": entry_id,
                "created": self.now,
                # As create_post: a backdated post was last changed when it was published.
                "updated": post.updated or post.published or self.now,
            }
            for post, entry_id in zip(posts, entry_ids, strict=True)
        ]
        posts_table = Post.__table__
        if not isinstance(posts_table, Table):  # typed FromClause by the declarative base
            raise RuntimeError("the posts model maps a table")
        statement = insert(posts_table).returning(posts_table.c.id, sort_by_parameter_order=True)
        return list(self.session.execute(statement, rows).scalars())

    def _insert_relations(self, posts: Sequence[CleanPost], post_ids: Sequence[int]) -> set[str]:
        """Insert the link and scope rows of the batch; returns the scopes it touched."""
        rows: dict[Any, list[Row]] = defaultdict(list)
        for post, post_id in zip(posts, post_ids, strict=True):
            categories = [self._category(term) for term in post.categories]
            rows[post_categories] += [{"post_id": post_id, "category_id": c.id} for c in categories]
            rows[post_tags] += [{"post_id": post_id, "tag_id": self._tag(t)} for t in post.tags]
            rows[post_authors] += [
                {"post_id": post_id, "author_id": self._author(a)} for a in post.authors
            ]
            rows[ScopeEntry.__table__] += [
                {"scope": scope, "published": post.published, "post_id": post_id}
                for scope in self._live_scopes(post, categories)
            ]
        for table, table_rows in rows.items():
            if table_rows:
                self.session.execute(insert(table), table_rows)
        return {row["scope"] for row in rows[ScopeEntry.__table__]}

    def _category(self, term: TermInput) -> Category:
        if term.slug not in self.categories:
            self.categories[term.slug] = stored_term(self.session, Category, term)
        return self.categories[term.slug]

    def _tag(self, term: TermInput) -> int:
        if term.slug not in self.tags:
            self.tags[term.slug] = stored_term(self.session, Tag, term).id
        return self.tags[term.slug]

    def _author(self, author: AuthorInput) -> int:
        # Keyed by the whole input, so that an e-mail or URI given later is recorded too.
        if author not in self.authors:
            self.authors[author] = stored_author(self.session, author).id
        return self.authors[author]

    def _live_scopes(self, post: CleanPost, categories: Sequence[Category]) -> list[str]:
        """The post's scopes by the write path's own rule, worked out once per shape."""
        key = (post.status, post.published is None, post.language, *(c.id for c in categories))
        if key not in self.scopes:
            shape = Post(
                status=post.status,
                published=post.published,
                language=post.language,
                categories=list(categories),
            )
            self.scopes[key] = live_scopes(shape)
        return self.scopes[key]


def _check_free(session: Session, posts: Sequence[CleanPost]) -> None:
    """Conflict, as create_post raises it, for a slug (per language), entry id or external
    id that the store or another post of the batch already holds."""
    _refuse_taken(session, "entry_id", Post.entry_id, [p.entry_id for p in posts if p.entry_id])
    external_ids = [p.external_id for p in posts if p.external_id]
    _refuse_taken(session, "external_id", Post.external_id, external_ids)
    slugs: dict[str, list[str]] = defaultdict(list)
    for post in posts:
        slugs[post.language].append(post.slug)
    for language, language_slugs in slugs.items():
        _refuse_taken(session, "slug", Post.slug, language_slugs, Post.language == language)


def _refuse_taken(
    session: Session,
    name: str,
    column: InstrumentedAttribute[Any],
    values: Sequence[str | None],
    *where: ColumnElement[bool],
) -> None:
    if not values:
        return
    taken = _first_repeat(values) or session.scalar(
        select(column).where(column.in_(set(values)), *where).limit(1)
    )
    if taken is not None:
        raise Conflict(name, f"{taken!r} is already another post's")


def _first_repeat(values: Sequence[str | None]) -> str | None:
    seen: set[str | None] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None
