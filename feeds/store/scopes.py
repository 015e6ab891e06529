"""Scope keys: the names the store's index files feed scopes under.

``site``, ``lang:fr``, and for a category, tag or author ``cat:3``, ``tag:7``, ``author:2``,
alone or with a language (``cat:3/lang:fr``). Keys name terms by id, never by slug, so that
renaming a term keeps its feeds' revisions and tombstones, and (ids are never reused) a new
term never inherits an old one's.
"""

from __future__ import annotations

from collections.abc import Mapping

from feeds.serving.spec import (
    BadCombination,
    FeedNotFound,
    FeedSpec,
    ScopeKind,
    UnknownAuthor,
    UnknownCategory,
    UnknownTag,
)

SITE_SCOPE = "site"
# The prefix of each kind's key; the site has none.
KIND_PREFIX = {ScopeKind.CATEGORY: "cat", ScopeKind.TAG: "tag", ScopeKind.AUTHOR: "author"}
_KIND_OF_PREFIX = {prefix: kind for kind, prefix in KIND_PREFIX.items()}


def scope_key(
    kind: ScopeKind = ScopeKind.SITE, term_id: int | None = None, language: str | None = None
) -> str:
    """The key of a feed scope: the site's, or a category's, tag's or author's (by id),
    optionally narrowed to one language."""
    parts = [] if kind is ScopeKind.SITE else [f"{KIND_PREFIX[kind]}:{term_id}"]
    if language is not None:
        parts.append(f"lang:{language}")
    return "/".join(parts) or SITE_SCOPE


def scope_parts(scope: str) -> tuple[ScopeKind, int | None, str | None]:
    """The kind, term id and language of a scope key (``cat:3/lang:fr`` → (CATEGORY, 3,
    "fr"), ``lang:fr`` → (SITE, None, "fr"))."""
    kind, term_id, language = ScopeKind.SITE, None, None
    for part in scope.split("/"):
        prefix, _, value = part.partition(":")
        if prefix == "lang":
            language = value
        elif prefix in _KIND_OF_PREFIX:
            kind, term_id = _KIND_OF_PREFIX[prefix], int(value)
    return kind, term_id, language


def feed_scopes(spec: FeedSpec, term_ids: Mapping[str, int]) -> tuple[str, ...]:
    """The keys of the scopes a feed reads (one, or one per category of a combined feed),
    from the ids of the terms it names by slug. For a term missing from ``term_ids``:
    UnknownCategory, UnknownTag or UnknownAuthor (404), or BadCombination (400) in a
    combined feed."""
    if spec.kind is ScopeKind.SITE:
        return (scope_key(language=spec.language),)
    keys = []
    for slug in spec.slugs:
        term_id = term_ids.get(slug)
        if term_id is None:
            raise _unknown(spec, slug)
        keys.append(scope_key(spec.kind, term_id, spec.language))
    return tuple(keys)


_UNKNOWN: dict[ScopeKind, type[FeedNotFound]] = {
    ScopeKind.CATEGORY: UnknownCategory,
    ScopeKind.TAG: UnknownTag,
    ScopeKind.AUTHOR: UnknownAuthor,
}


def _unknown(spec: FeedSpec, slug: str) -> Exception:
    word = spec.kind.name.lower()
    if spec.combined:
        return BadCombination(f"unknown {word} {slug!r}")
    return _UNKNOWN[spec.kind](f"unknown {word} {slug!r}")
