"""Bulk loading: many new posts by the write path's rules, a batch at a time.

The importers' fast path (UpsertBatch) and the benchmarks' datasets (bulk_create_posts).
Each post is validated and cleaned exactly as create_post does it (validation.clean_post,
the one place that does), and gets its entry id once; but the rows of a batch go in with one
executemany per table, categories, tags and authors are looked up once per batch
(feeds.store.taxonomy), and each scope's revision moves once per batch instead of once per
post (feeds.store.index). Like every write, it flushes and never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from feeds.settings import Settings
from feeds.store.index import is_live, scopes_of, touch_scopes
from feeds.store.models import (
    Category,
    Post,
    PostEnclosure,
    ScopeEntry,
    Tag,
    post_authors,
    post_categories,
    post_tags,
)
from feeds.store.taken_keys import TakenKeys, refuse_taken
from feeds.store.taxonomy import stored_author, stored_term
from feeds.store.validation import (
    AuthorInput,
    CleanPost,
    InvalidInput,
    PostInput,
    TermInput,
    clean_post,
    identifier,
)
from feeds.store.writes import (
    WriteOutcome,
    enclosure_row,
    new_entry_id,
    new_post_columns,
    revive_entries,
    upsert_post,
)

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
    if batch < 1:
        raise ValueError("batch must be at least 1")
    loader = _BulkLoader(session, settings, now or datetime.now(UTC))
    iterator, count = iter(inputs), 0
    while chunk := list(islice(iterator, batch)):
        posts = [clean_post(data, settings, loader.now) for data in chunk]
        refuse_taken(session, posts)
        loader.load(posts)
        count += len(posts)
    return count


class UpsertBatch:
    """Posts upserted in order, each as upsert_post would, but the new ones fast.

    A post whose external id, entry id and slug no post holds (in the store, or earlier in
    the batch) is created, so its write is held back; the held-back posts are written
    together by bulk when a post that needs upsert_post comes (an update, a slug to free),
    and at flush(). The ids and slugs of the posts given are looked up in a few queries
    when the batch is made; a post not given then goes through upsert_post.
    """

    def __init__(
        self,
        session: Session,
        settings: Settings,
        inputs: Sequence[PostInput],
        *,
        free_slug: bool = False,
    ) -> None:
        self.session = session
        self.settings = settings
        self.free_slug = free_slug
        self.loader = _BulkLoader(session, settings, datetime.now(UTC))
        self.taken = TakenKeys()
        self.held_back: list[CleanPost] = []
        self.prepared = self._prepare(inputs)

    def upsert(self, data: PostInput) -> WriteOutcome:
        """As upsert_post(data): InvalidInput (or Conflict) if the write path refuses it, and
        then nothing of it is written."""
        given, prepared = self.prepared.get(id(data), (None, None))
        if given is data and isinstance(prepared, InvalidInput):
            raise prepared  # as upsert_post would, before any write
        if given is data and isinstance(prepared, CleanPost) and not self.taken.clash(prepared):
            self.taken.hold(
                prepared.entry_id, prepared.external_id, prepared.language, prepared.slug
            )
            self.held_back.append(prepared)
            return WriteOutcome.CREATED
        self.flush()
        with self.session.begin_nested():  # a post the write path refuses rolls back alone
            post, outcome = upsert_post(self.session, self.settings, data, free_slug=self.free_slug)
        self.taken.hold(post.entry_id, post.external_id, post.language, post.slug)
        self.loader.forget_authors()  # upsert_post may have changed an author's e-mail or URI
        return outcome

    def flush(self) -> None:
        """Write the posts held back."""
        if self.held_back:
            self.loader.load(self.held_back)
            self.held_back = []

    def _prepare(
        self, inputs: Sequence[PostInput]
    ) -> dict[int, tuple[PostInput, CleanPost | InvalidInput | None]]:
        """Each input (by identity), cleaned if no post holds its ids, or the InvalidInput
        upsert_post would raise; None when a post holds its ids (an update)."""
        prepared: dict[int, tuple[PostInput, CleanPost | InvalidInput | None]] = {}
        keys: list[tuple[PostInput, str | None, str | None]] = []
        for data in inputs:
            try:  # in upsert_post's order, so that the same field is named
                external_id = identifier("external_id", data.external_id)
                entry_id = identifier("entry_id", data.entry_id)
            except InvalidInput as error:
                prepared[id(data)] = (data, error)
            else:
                keys.append((data, entry_id, external_id))
        self.taken.look_up_ids(
            self.session,
            [entry_id for _, entry_id, _ in keys if entry_id],
            [external_id for _, _, external_id in keys if external_id],
        )
        for data, entry_id, external_id in keys:
            if self.taken.holds_id(entry_id, external_id):
                prepared[id(data)] = (data, None)
                continue
            try:
                prepared[id(data)] = (data, clean_post(data, self.settings, self.loader.now))
            except InvalidInput as error:
                prepared[id(data)] = (data, error)
        cleaned = [post for _, post in prepared.values() if isinstance(post, CleanPost)]
        self.taken.look_up_slugs(self.session, cleaned)
        return prepared


@dataclass(frozen=True)
class _StoredAuthor:
    id: int
    email: str | None
    uri: str | None


class _BulkLoader:
    """Writes batches of checked new posts: the session, and the terms and authors seen."""

    def __init__(self, session: Session, settings: Settings, now: datetime) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.categories: dict[str, Category] = {}
        self.tags: dict[str, int] = {}
        self.authors: dict[str, _StoredAuthor] = {}

    def load(self, posts: Sequence[CleanPost]) -> None:
        """Insert posts whose ids and slugs are free, their links and scope rows; revive
        their tombstones and move the revisions of the scopes they are in (sealing their
        full archives, once for the batch)."""
        entry_ids = [post.entry_id or new_entry_id() for post in posts]
        post_ids = self._insert_posts(posts, entry_ids)
        touched = self._insert_relations(posts, post_ids)
        revive_entries(self.session, [post.entry_id for post in posts if post.entry_id])
        touch_scopes(self.session, touched, self.now, self.settings)

    def forget_authors(self) -> None:
        """Forget what the authors' e-mails and URIs were: another write may have set them."""
        self.authors.clear()

    def _insert_posts(self, posts: Sequence[CleanPost], entry_ids: Sequence[str]) -> list[int]:
        rows = [
            new_post_columns(post, entry_id, self.now)
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
            tag_ids = [self._tag(term) for term in post.tags]
            author_ids = [self._author(author) for author in post.authors]
            rows[post_categories] += [{"post_id": post_id, "category_id": c.id} for c in categories]
            rows[post_tags] += [{"post_id": post_id, "tag_id": tag_id} for tag_id in tag_ids]
            rows[post_authors] += [
                {"post_id": post_id, "author_id": author_id} for author_id in author_ids
            ]
            rows[PostEnclosure.__table__] += [
                {"post_id": post_id, **enclosure_row(enclosure, position)}
                for position, enclosure in enumerate(post.enclosures)
            ]
            rows[ScopeEntry.__table__] += [
                {"scope": scope, "published": post.published, "post_id": post_id}
                for scope in (
                    scopes_of(post.language, [c.id for c in categories], tag_ids, author_ids)
                    if is_live(post.status, post.published)
                    else ()
                )
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
        known = self.authors.get(author.name)
        # stored_author records an e-mail or URI given: called again when one differs.
        if (
            known is None
            or author.email not in (None, known.email)
            or author.uri not in (None, known.uri)
        ):
            stored = stored_author(self.session, author)
            known = _StoredAuthor(stored.id, stored.email, stored.uri)
            self.authors[author.name] = known
        return known.id
