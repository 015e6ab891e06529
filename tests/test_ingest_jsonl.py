"""JSON Lines: export every post, import them back, and report the lines that cannot be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feeds.ingest.export import export_posts
from feeds.ingest.feed import FEED_IMPORTER
from feeds.ingest.jsonl import JSONL_IMPORTER
from feeds.ingest.runner import ImportFailed
from feeds.ingest.wxr import WXR_IMPORTER
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import PostStatus
from feeds.store.validation import (
    AuthorInput,
    EnclosureInput,
    ImageInput,
    PostInput,
    TermInput,
)
from feeds.store.writes import create_post
from feeds.tools.demo import demo_posts, load_demo
from tests.fixtures import ATOM, WXR, exported, import_file, post_count, skips, stored_posts

READ_ONLY = ("id", "created")


@pytest.fixture
def full_store(store: Store, settings: Settings) -> Store:
    """A store with what every writer leaves: demo posts (drafts, scheduled), a WordPress
    import (tags, Arabic and Japanese), an Atom import (author URIs), an API post (with an
    image and enclosures)."""
    with store.session() as session:
        load_demo(session, settings, demo_posts(settings, 80))
        create_post(
            session,
            settings,
            PostInput(
                title="From the CMS",
                slug="from-the-cms",
                language="fr",
                content_html="<p>Bonjour</p>",
                published=datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),
                tags=[TermInput("cms", "CMS")],
                authors=[AuthorInput("Zoé", "zoe@example.com", "https://example.com/zoe")],
                external_id="cms-42",
                image=ImageInput("https://cdn.example.com/cover.jpg", "A cover", 1200, 630),
                enclosures=[
                    EnclosureInput("https://cdn.example.com/a.mp3", "audio/mpeg", 1234),
                    EnclosureInput("https://cdn.example.com/a.ogg", "audio/ogg"),
                ],
            ),
        )
        session.commit()
    import_file(WXR_IMPORTER, store, settings, WXR)
    import_file(FEED_IMPORTER, store, settings, ATOM)
    return store


@pytest.fixture
def empty_store(settings: Settings, tmp_path: Path) -> Iterator[tuple[Store, Settings]]:
    """A second, empty store with the same site settings."""
    other = settings.replace(database_url=f"sqlite:///{tmp_path / 'other.db'}")
    store = Store(other.database_url)
    store.create_schema()
    yield store, other
    store.dispose()


def without_read_only(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in post.items() if k not in READ_ONLY} for post in posts]


def jsonl_file(tmp_path: Path, *lines: str | bytes) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(
        b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    )
    return path


def post_line(**fields: Any) -> str:
    document = {"title": "A post", "language": "en", "published": "2024-01-01T00:00:00Z"}
    return json.dumps({**document, **fields}, ensure_ascii=False)


def test_export_then_import_into_an_empty_store_reproduces_it(
    full_store: Store,
    settings: Settings,
    empty_store: tuple[Store, Settings],
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.jsonl"
    count = export_posts(full_store, settings, str(path))
    original = exported(full_store, settings)
    assert count == len(original) > 90
    assert {p["status"] for p in original} == {"draft", "published"}
    assert any(p["tags"] for p in original) and any(p["authors"][0]["uri"] for p in original)
    assert any(p["image"] for p in original) and any(p["enclosures"] for p in original)
    target, target_settings = empty_store
    report = import_file(JSONL_IMPORTER, target, target_settings, path)
    assert report.counts() == f"created {count}, updated 0, unchanged 0, skipped 0"
    assert without_read_only(exported(target, target_settings)) == without_read_only(original)


def test_importing_a_store_s_own_export_changes_nothing(
    full_store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    count = export_posts(full_store, settings, str(path))
    report = import_file(JSONL_IMPORTER, full_store, settings, path)
    assert report.counts() == f"created 0, updated 0, unchanged {count}, skipped 0"


def test_the_export_holds_drafts_by_id_in_plain_utf8(
    full_store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    export_posts(full_store, settings, str(path))
    text = path.read_text(encoding="utf-8")
    posts = [json.loads(line) for line in text.splitlines()]
    assert [p["id"] for p in posts] == sorted(p["id"] for p in posts)
    assert any(p["status"] == "draft" for p in posts)
    assert "مرحبا بالعالم" in text  # not \u0645…


def test_bad_lines_are_skipped_with_their_line_numbers(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = jsonl_file(
        tmp_path,
        post_line(entry_id="urn:x:1", slug="one"),
        "",
        '{"title": "Broken", ',
        post_line(entry_id="urn:x:4", published="2024-01-01T09:00:00"),
        "[1, 2]",
        post_line(entry_id="urn:x:6", colour="red"),
        b'{"title": "caf\xe9"}',
        post_line(entry_id="urn:x:8", slug="eight", language="sw"),
        "   ",
        post_line(entry_id="urn:x:10", slug="ten"),
    )
    report = import_file(JSONL_IMPORTER, store, settings, path)
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 6"
    assert skips(report) == {
        "line 3": "not JSON: Expecting property name enclosed in double quotes (column 21)",
        "line 4": "published: '2024-01-01T09:00:00' is not an RFC 3339 date-time with a time zone "
        "(like 2024-05-01T09:00:00Z or 2024-05-01T09:00:00+02:00)",
        "line 5": "body: must be a JSON object",
        "line 6": "colour: unknown field",
        "line 7": "not UTF-8 (invalid continuation byte at byte 14)",
        "line 8": "language: 'sw' is not one of en, ar, zh-hans, fr, de, ru, es, ja, ko, tr, pt-br",
    }
    assert set(stored_posts(store)) == {"urn:x:1", "urn:x:10"}


def test_strict_import_aborts_at_the_first_bad_line(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = jsonl_file(
        tmp_path,
        post_line(entry_id="urn:x:1", slug="one"),
        post_line(entry_id="urn:x:2", published="yesterday-ish"),
        post_line(entry_id="urn:x:3", slug="three"),
    )
    with pytest.raises(ImportFailed) as failure:
        import_file(JSONL_IMPORTER, store, settings, path, strict=True)
    assert str(failure.value) == (
        "line 2: published: 'yesterday-ish' is not an RFC 3339 date-time with a time zone "
        "(like 2024-05-01T09:00:00Z or 2024-05-01T09:00:00+02:00); nothing was imported (--strict)"
    )
    assert post_count(store) == 0


def test_a_post_is_matched_by_its_external_id_and_updated_in_place(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    import_file(
        JSONL_IMPORTER, store, settings, jsonl_file(tmp_path, post_line(external_id="cms-1"))
    )
    [first] = stored_posts(store).values()
    changed = jsonl_file(tmp_path, post_line(external_id="cms-1", title="A better title"))
    report = import_file(JSONL_IMPORTER, store, settings, changed)
    assert report.counts() == "created 0, updated 1, unchanged 0, skipped 0"
    [post] = stored_posts(store).values()
    assert (post.entry_id, post.title, post.status) == (
        first.entry_id,
        "A better title",
        PostStatus.PUBLISHED,
    )


def test_a_slug_another_post_holds_is_reported_not_renamed(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = jsonl_file(
        tmp_path,
        post_line(entry_id="urn:x:1", slug="same"),
        post_line(entry_id="urn:x:2", slug="same"),
    )
    report = import_file(JSONL_IMPORTER, store, settings, path)
    assert skips(report) == {"line 2": "slug: another 'en' post has the slug 'same'"}


def test_a_byte_order_mark_and_a_missing_final_newline_are_fine(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = jsonl_file(tmp_path, "\ufeff" + post_line(entry_id="urn:x:1"))
    assert import_file(JSONL_IMPORTER, store, settings, path).created == 1
