"""bulk_create_posts and the importers' fast path: the write path's rules, many posts at a
time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from feeds import create_app
from feeds.ingest.runner import ImportFailed, ImportOptions, ImportReport, Record, run_import
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.bulk import bulk_create_posts
from feeds.store.models import Category, Post, PostStatus, ScopeEntry
from feeds.store.validation import AuthorInput, Conflict, InvalidInput, PostInput, TermInput
from feeds.store.writes import create_post, upsert_post
from feeds.tools.demo import demo_posts
from feeds.web.app_state import app_state
from tests.conftest import database_url, make_settings, parse_feed
from tests.fixtures import exported, post_count, skips

CHANGED = datetime(2024, 6, 1, tzinfo=UTC)
FEED_PATHS = (
    "/feeds/all.atom",
    "/feeds/all.rss",
    "/feeds/category/tech.atom",
    "/fr/feeds/all.rss",
    "/en/feeds/category/blog-posts.atom",
    "/ar/feeds/category/blog-posts.rss",
)


def _inputs(settings: Settings, count: int) -> list[PostInput]:
    """``count`` demo posts (the sample page's, then generated ones: drafts, scheduled posts,
    eleven languages), with fixed entry ids."""
    return [
        replace(post, entry_id=f"urn:uuid:{uuid.UUID(int=number)}")
        for number, post in enumerate(islice(demo_posts(settings, count), count))
    ]


def _client(tmp_path: Path, name: str) -> tuple[Settings, Store, FlaskClient]:
    # Archives large enough that none is sealed: where their bounds fall depends on the
    # order of the writes (a batch seals once, after all its posts), not only on the posts.
    settings = make_settings(database_url(tmp_path, name), archive_size=1000)
    store = Store(settings.database_url)
    store.create_schema()
    return settings, store, create_app(settings).test_client()


def _count(store: Store, statement: object) -> int:
    with store.session() as session:
        return session.scalar(statement)  # type: ignore[arg-type]


def test_bulk_posts_show_in_feeds_exactly_like_created_posts(tmp_path: Path) -> None:
    one_settings, one_store, one = _client(tmp_path, "one")
    bulk_settings, bulk_store, bulk = _client(tmp_path, "bulk")
    inputs = _inputs(one_settings, 120)
    with one_store.session() as session:
        for post in inputs:
            create_post(session, one_settings, post)
        session.commit()
    with bulk_store.session() as session:
        assert bulk_create_posts(session, bulk_settings, inputs, batch=7) == len(inputs)
        session.commit()
    for path in FEED_PATHS:
        expected, got = one.get(path), bulk.get(path)
        assert got.status_code == 200, path
        assert got.data == expected.data, path
        assert parse_feed(got.data).entries, path


def test_bulk_posts_get_a_new_entry_id_each(store: Store, settings: Settings) -> None:
    inputs = [replace(post, entry_id=None) for post in _inputs(settings, 30)]
    with store.session() as session:
        bulk_create_posts(session, settings, inputs)
        session.commit()
        entry_ids = session.scalars(select(Post.entry_id)).all()
    assert len(set(entry_ids)) == len(inputs)
    assert all(entry_id.startswith("urn:uuid:") for entry_id in entry_ids)


def test_bulk_drafts_have_no_scope_rows(store: Store, settings: Settings) -> None:
    inputs = _inputs(settings, 10)
    drafts = [replace(post, status=PostStatus.DRAFT) for post in inputs[:4]]
    with store.session() as session:
        bulk_create_posts(session, settings, [*drafts, *inputs[4:]])
        session.commit()
        draft_ids = session.scalars(select(Post.id).where(Post.status == PostStatus.DRAFT)).all()
    assert len(draft_ids) == 4
    assert _count(store, select(func.count()).where(ScopeEntry.post_id.in_(draft_ids))) == 0
    assert _count(store, select(func.count(ScopeEntry.post_id.distinct()))) == 6


def test_bulk_posts_reach_a_feed_already_cached(client: FlaskClient, store: Store) -> None:
    settings = app_state(client.application).settings
    inputs = _inputs(settings, 10)
    with store.session() as session:
        bulk_create_posts(session, settings, inputs[:5])
        session.commit()
    before = parse_feed(client.get("/feeds/all.atom").data)
    with store.session() as session:
        bulk_create_posts(session, settings, inputs[5:])
        session.commit()
    after = parse_feed(client.get("/feeds/all.atom").data)
    assert len(after.entries) > len(before.entries)


def test_bulk_bad_input_names_the_field_and_keeps_nothing_of_its_batch(
    store: Store, settings: Settings
) -> None:
    good = _inputs(settings, 3)
    fresh = replace(good[2], categories=[TermInput("brand-new")])
    bad = replace(good[0], slug="bad", entry_id=None, language="xx")
    with store.session() as session:
        with pytest.raises(InvalidInput) as raised:
            bulk_create_posts(session, settings, [good[0], good[1], fresh, bad], batch=2)
        session.commit()
    assert raised.value.field == "language"
    assert _count(store, select(func.count()).select_from(Post)) == 2
    assert _count(store, select(func.count()).where(Category.slug == "brand-new")) == 0


def _twin(post: PostInput, field: str) -> PostInput:
    """Another post that shares only ``field`` (its slug or entry id) with ``post``."""
    others = {"slug": f"{post.slug}-twin", "entry_id": f"{post.entry_id}-twin"}
    del others[field]
    return replace(post, **others)


@pytest.mark.parametrize("field", ["slug", "entry_id"])
def test_bulk_refuses_a_slug_or_entry_id_already_taken(
    store: Store, settings: Settings, field: str
) -> None:
    first, second = _inputs(settings, 2)
    with store.session() as session:
        bulk_create_posts(session, settings, [first])
        with pytest.raises(Conflict) as in_store:
            bulk_create_posts(session, settings, [_twin(first, field)])
        with pytest.raises(Conflict) as in_batch:
            bulk_create_posts(session, settings, [second, _twin(second, field)])
    assert in_store.value.field == in_batch.value.field == field


# --- the importers' fast path: UpsertBatch through run_import -----------------------------


def _records(posts: list[PostInput]) -> list[Record]:
    return [Record(f"line {number}", post=post) for number, post in enumerate(posts, start=1)]


def _import(
    store: Store, settings: Settings, posts: list[PostInput], **options: Any
) -> ImportReport:
    return run_import(store, settings, _records(posts), ImportOptions(**options), free_slugs=True)


def _one_at_a_time(store: Store, settings: Settings, posts: list[PostInput]) -> None:
    """What the importers did before the fast path: upsert_post, a savepoint a post."""
    with store.session() as session:
        for post in posts:
            try:
                with session.begin_nested():
                    upsert_post(session, settings, post, free_slug=True)
            except InvalidInput:
                pass
        session.commit()


def _mixed_first_import(settings: Settings) -> list[PostInput]:
    """Demo posts, with what sends a post of a first import the slow way: a slug an earlier
    post of the file took, an entry id an earlier post has (an update), an author's e-mail
    changing and changing back."""
    posts = _inputs(settings, 60)
    alice = [AuthorInput("Alice", email=f"alice@{host}") for host in ("a.test", "b.test")]
    return [
        *posts[:20],
        replace(posts[3], entry_id="urn:test:same-slug", external_id="same-slug"),
        replace(posts[5], title="Changed", external_id="five-again", updated=CHANGED),
        *(replace(post, authors=[alice[n % 2]]) for n, post in enumerate(posts[20:23])),
        *posts[23:],
    ]


def test_a_first_import_gives_the_same_feeds_and_posts_as_one_post_at_a_time(
    tmp_path: Path,
) -> None:
    slow_settings, slow_store, slow = _client(tmp_path, "slow")
    fast_settings, fast_store, fast = _client(tmp_path, "fast")
    posts = _mixed_first_import(slow_settings)
    _one_at_a_time(slow_store, slow_settings, posts)
    report = _import(fast_store, fast_settings, posts, batch_size=7)
    assert report.counts() == "created 61, updated 1, unchanged 0, skipped 0"
    for path in FEED_PATHS:
        expected, got = slow.get(path), fast.get(path)
        assert got.status_code == 200, path
        assert got.data == expected.data, path
    read_only = ("id", "created")
    assert [_without(post, read_only) for post in exported(fast_store, fast_settings)] == [
        _without(post, read_only) for post in exported(slow_store, slow_settings)
    ]


def _without(post: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in post.items() if key not in keys}


def test_a_bad_record_in_a_fast_batch_is_skipped_alone_with_its_position(
    store: Store, settings: Settings
) -> None:
    posts = _inputs(settings, 10)
    posts[4] = replace(posts[4], language="xx")
    posts[6] = replace(posts[6], entry_id="not a uri")
    report = _import(store, settings, posts, batch_size=10)
    assert report.counts() == "created 8, updated 0, unchanged 0, skipped 2"
    assert skips(report) == {
        "line 5": f"language: 'xx' is not one of {', '.join(settings.languages)}",
        "line 7": "entry_id: must be an absolute URI (tag:, urn:, http:…)",
    }
    assert post_count(store) == 8


def test_a_slug_taken_earlier_in_the_batch_is_refused_as_one_at_a_time(
    store: Store, settings: Settings
) -> None:
    first, second = _inputs(settings, 2)
    twin = replace(second, slug=first.slug)
    report = run_import(store, settings, _records([first, twin]), ImportOptions())
    assert skips(report) == {
        "line 2": f"slug: another {first.language!r} post has the slug {first.slug!r}"
    }


def test_importing_again_leaves_every_post_unchanged(store: Store, settings: Settings) -> None:
    posts = _inputs(settings, 30)
    first = _import(store, settings, posts, batch_size=8)
    again = _import(store, settings, posts, batch_size=8)
    assert first.counts() == "created 30, updated 0, unchanged 0, skipped 0"
    assert again.counts() == "created 0, updated 0, unchanged 30, skipped 0"


def test_a_bad_record_before_the_source_fails_is_the_one_a_strict_import_names(
    store: Store, settings: Settings
) -> None:
    good, bad = _inputs(settings, 2)

    def records() -> Iterator[Record]:
        yield from _records([good, replace(bad, language="xx")])
        raise ImportFailed("line 3: cut off")

    with pytest.raises(ImportFailed) as failure:
        run_import(store, settings, records(), ImportOptions(strict=True, batch_size=10))
    assert str(failure.value).startswith("line 2: language: 'xx' is not one of")
    assert post_count(store) == 0
