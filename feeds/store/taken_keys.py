"""Which entry ids, external ids and slugs posts hold: looked up for a batch of posts in a
few queries, then kept up to date as the batch is written (feeds.store.bulk).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from feeds.store.models import Post
from feeds.store.validation import CleanPost, Conflict

# Values per IN (…) list: well under every database's bound on parameters.
_IN_LIST = 500


@dataclass
class TakenKeys:
    """The entry ids, external ids and slugs (per language) that posts hold, of those
    looked up or held since."""

    entry_ids: set[str] = field(default_factory=set)
    external_ids: set[str] = field(default_factory=set)
    slugs: set[tuple[str, str]] = field(default_factory=set)

    def look_up_ids(
        self, session: Session, entry_ids: Sequence[str], external_ids: Sequence[str]
    ) -> None:
        """Learn which of these ids the store's posts hold."""
        self.entry_ids |= _stored(session, Post.entry_id, entry_ids)
        self.external_ids |= _stored(session, Post.external_id, external_ids)

    def look_up_slugs(self, session: Session, posts: Iterable[CleanPost]) -> None:
        """Learn which of these posts' slugs the store's posts hold in their language."""
        by_language: dict[str, list[str]] = defaultdict(list)
        for post in posts:
            by_language[post.language].append(post.slug)
        for language, slugs in by_language.items():
            stored = _stored(session, Post.slug, slugs, Post.language == language)
            self.slugs |= {(language, slug) for slug in stored}

    def holds_id(self, entry_id: str | None, external_id: str | None) -> bool:
        """Whether a post holds this entry id or external id."""
        return entry_id in self.entry_ids or external_id in self.external_ids

    def clash(self, post: CleanPost) -> tuple[str, str] | None:
        """The field and value of ``post`` that a post holds already, if any."""
        if post.entry_id in self.entry_ids:
            return "entry_id", post.entry_id
        if post.external_id in self.external_ids:
            return "external_id", post.external_id
        if (post.language, post.slug) in self.slugs:
            return "slug", post.slug
        return None

    def hold(self, entry_id: str | None, external_id: str | None, language: str, slug: str) -> None:
        """Note that a post holds these ids, and this slug in this language."""
        if entry_id:
            self.entry_ids.add(entry_id)
        if external_id:
            self.external_ids.add(external_id)
        self.slugs.add((language, slug))


def _stored(
    session: Session,
    column: InstrumentedAttribute[Any],
    values: Sequence[str],
    *where: ColumnElement[bool],
) -> set[str]:
    """Which of ``values`` some post holds in ``column``."""
    found: set[str] = set()
    unique = sorted(set(values))
    for start in range(0, len(unique), _IN_LIST):
        chunk = unique[start : start + _IN_LIST]
        found |= set(session.scalars(select(column).where(column.in_(chunk), *where)))
    return found


def refuse_taken(session: Session, posts: Sequence[CleanPost]) -> None:
    """Conflict, as create_post raises it, for a slug (per language), entry id or external
    id that the store or an earlier post of the batch already holds."""
    taken = TakenKeys()
    taken.look_up_ids(
        session,
        [post.entry_id for post in posts if post.entry_id],
        [post.external_id for post in posts if post.external_id],
    )
    taken.look_up_slugs(session, posts)
    for post in posts:
        clash = taken.clash(post)
        if clash is not None:
            name, value = clash
            raise Conflict(name, f"{value!r} is already another post's")
        taken.hold(post.entry_id, post.external_id, post.language, post.slug)
