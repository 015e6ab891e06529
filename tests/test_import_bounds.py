"""Imports never crash and stay in bounded memory: unknown encodings, JSON no parser can
hold, items, entries and lines larger than import_max_item_bytes, files larger than
import_max_bytes, and truncated or broken XML, each with a clear answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from feeds.ingest.feed import FEED_IMPORTER
from feeds.ingest.jsonl import JSONL_IMPORTER
from feeds.ingest.runner import ImportFailed
from feeds.ingest.safe_xml import MalformedXML, UnknownEncoding
from feeds.ingest.source import InputTooLarge
from feeds.ingest.wxr import WXR_IMPORTER
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO
from tests.fixtures import ATOM, RSS, WXR, import_file, post_count, skips, stored_posts

MiB = 1 << 20

WXR_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"'
    b' xmlns:content="http://purl.org/rss/1.0/modules/content/">'
    b"<channel><language>en</language><wp:wxr_version>1.2</wp:wxr_version>\n"
)
RSS_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>t</title>'
    b"<link>https://n.example/</link><language>en</language>\n"
)
TAIL = b"</channel></rss>\n"


def wxr_item(number: int, content: Iterable[bytes] = (b"<p>Body</p>",)) -> Iterable[bytes]:
    yield (
        f"<item><title>Post {number}</title><guid>https://wp.example/?p={number}</guid>"
        f"<wp:post_name>post-{number}</wp:post_name><wp:status>publish</wp:status>"
        "<wp:post_type>post</wp:post_type>"
        "<wp:post_date_gmt>2024-01-02 03:04:05</wp:post_date_gmt><content:encoded><![CDATA["
    ).encode()
    yield from content
    yield b"]]></content:encoded></item>\n"


def rss_item(number: int, description: Iterable[bytes] = (b"Body",)) -> Iterable[bytes]:
    yield (
        f"<item><title>Post {number}</title><link>https://n.example/{number}</link>"
        f"<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate><description>"
    ).encode()
    yield from description
    yield b"</description></item>\n"


def write(path: Path, *parts: Iterable[bytes]) -> Path:
    """Write ``parts`` piece by piece: a large file never has to be in memory."""
    with path.open("wb") as out:
        for part in parts:
            for piece in part:
                out.write(piece)
    return path


def megabytes(count: int, lines: bool = True) -> Iterable[bytes]:
    """``count`` MiB of text, one MiB at a time; in lines, or in one."""
    line = b"Lorem ipsum dolor sit amet. " * 31 + (b"\n" if lines else b" ")
    block = line * (MiB // len(line)) + b"x" * (MiB % len(line))
    for _ in range(count):
        yield block


def bounded(settings: Settings, item_bytes: int = MiB, **changes: object) -> Settings:
    return settings.replace(import_max_item_bytes=item_bytes, **changes)


# --- encodings -----------------------------------------------------------------------------


KINDS = [(WXR_IMPORTER, WXR_HEAD, wxr_item), (FEED_IMPORTER, RSS_HEAD, rss_item)]


@pytest.mark.parametrize(("importer", "head", "item"), KINDS, ids=["wxr", "feed"])
def test_an_unknown_declared_encoding_is_refused_with_its_name(
    store: Store,
    settings: Settings,
    tmp_path: Path,
    importer: object,
    head: bytes,
    item: Callable[[int], Iterable[bytes]],
) -> None:
    declared = head.replace(b'encoding="UTF-8"', b'encoding="x-nonsense"')
    path = write(tmp_path / "file.xml", [declared], item(1), [TAIL])
    with pytest.raises(UnknownEncoding) as failure:
        import_file(importer, store, settings, path)  # type: ignore[arg-type]
    assert str(failure.value) == (
        f"{path} declares the encoding 'x-nonsense', which is not an encoding Python knows"
    )
    assert post_count(store) == 0


@pytest.mark.parametrize(("importer", "head", "item"), KINDS, ids=["wxr", "feed"])
def test_a_multibyte_encoding_expat_lacks_is_read_all_the_same(
    store: Store,
    settings: Settings,
    tmp_path: Path,
    importer: object,
    head: bytes,
    item: Callable[[int], Iterable[bytes]],
) -> None:
    """Shift_JIS: expat reads only single-byte encodings besides UTF-8 and UTF-16."""
    text = b"".join([head, *item(1), TAIL]).decode().replace("Post 1", "こんにちは、世界")
    path = tmp_path / "sjis.xml"
    path.write_bytes(text.replace('encoding="UTF-8"', 'encoding="Shift_JIS"').encode("shift_jis"))
    report = import_file(importer, store, settings, path)  # type: ignore[arg-type]
    assert report.created == 1
    [post] = stored_posts(store).values()
    assert post.title == "こんにちは、世界"


# --- JSON Lines ----------------------------------------------------------------------------


def post_line(number: int, **fields: object) -> bytes:
    document = {
        "title": f"Post {number}",
        "language": "en",
        "published": "2024-01-01T00:00:00Z",
        "entry_id": f"urn:x:{number}",
        "slug": f"post-{number}",
        **fields,
    }
    return json.dumps(document).encode() + b"\n"


def test_json_no_parser_can_hold_is_one_skipped_line_and_the_rest_imports(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "posts.jsonl",
        [post_line(1)],
        [b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"],
        [post_line(3)],
        [b'{"title": "Big", "count": ' + b"7" * 5000 + b"}\n"],
        [post_line(5)],
    )
    report = import_file(JSONL_IMPORTER, store, settings, path)
    assert report.counts() == "created 3, updated 0, unchanged 0, skipped 2"
    assert skips(report) == {
        "line 2": "not JSON feeds can read: nested too deeply",
        "line 4": "not JSON feeds can read: a number of 5000 digits (at most 4300)",
    }
    assert set(stored_posts(store)) == {"urn:x:1", "urn:x:3", "urn:x:5"}


def test_a_line_longer_than_the_item_limit_is_skipped_without_being_held(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "posts.jsonl",
        [post_line(1)],
        [b'{"title": "'],
        megabytes(5, lines=False),
        [b'"}\n'],
        [post_line(3)],
    )
    tracemalloc.start()
    report = import_file(JSONL_IMPORTER, store, bounded(settings), path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert skips(report) == {"line 2": "longer than import_max_item_bytes (1 MiB)"}
    assert set(stored_posts(store)) == {"urn:x:1", "urn:x:3"}
    assert peak < 3 * MiB, f"peak {peak} bytes for a 5 MiB line"


def test_a_line_of_exactly_the_limit_is_read(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    line = post_line(1, summary="")
    padded = line.replace(b'"summary": ""', b'"summary": "' + b"s" * (1001 - len(line)) + b'"')
    assert len(padded) == 1001  # 1,000 bytes and the newline
    path = write(tmp_path / "posts.jsonl", [padded, post_line(2)])
    report = import_file(JSONL_IMPORTER, store, bounded(settings, 1000), path)
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 0"
    report = import_file(JSONL_IMPORTER, store, bounded(settings, 999), path)
    assert skips(report) == {"line 1": "longer than import_max_item_bytes (999 bytes)"}


# --- huge items, entries and files ---------------------------------------------------------


def test_an_item_larger_than_the_limit_is_skipped_and_the_rest_imported(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "export.xml",
        [WXR_HEAD],
        wxr_item(1),
        wxr_item(2, megabytes(3)),
        wxr_item(3),
        [TAIL],
    )
    report = import_file(WXR_IMPORTER, store, bounded(settings), path)
    assert report.counts() == "created 2, updated 0, unchanged 0, skipped 1"
    assert skips(report) == {
        "item 2 (guid https://wp.example/?p=2)": (
            "larger than import_max_item_bytes (1 MiB): not read"
        )
    }
    assert set(stored_posts(store)) == {"https://wp.example/?p=1", "https://wp.example/?p=3"}


def test_a_tag_larger_than_the_limit_stops_the_import(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """An attribute or a comment is one token: the parser cannot skip it, only hold it."""
    path = write(
        tmp_path / "export.xml",
        [WXR_HEAD],
        wxr_item(1),
        [b'<item><title a="'],
        megabytes(3),
        [b'"/></item>', TAIL],
    )
    with pytest.raises(InputTooLarge) as failure:
        import_file(WXR_IMPORTER, store, bounded(settings), path)
    assert "a single tag, comment or declaration near byte" in str(failure.value)
    assert "is larger than import_max_item_bytes (1 MiB): refused" in str(failure.value)


def test_a_feed_entry_larger_than_the_limit_refuses_the_feed(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "feed.rss",
        [RSS_HEAD],
        rss_item(1),
        rss_item(2, megabytes(3)),
        rss_item(3),
        [TAIL],
    )
    with pytest.raises(InputTooLarge) as failure:
        import_file(FEED_IMPORTER, store, bounded(settings), path)
    assert str(failure.value) == (
        f"{path}: item 2 is larger than import_max_item_bytes (1 MiB): refused, "
        "nothing was imported"
    )
    assert post_count(store) == 0


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(
    store: Store, settings: Settings
) -> None:
    small = settings.replace(import_max_bytes=2048)
    for importer, path in ((WXR_IMPORTER, WXR), (FEED_IMPORTER, ATOM)):
        with pytest.raises(InputTooLarge) as failure:
            import_file(importer, store, small, path)
        assert str(failure.value) == (
            f"{path} is larger than import_max_bytes (2 KiB): refused; raise import_max_bytes "
            "to import it"
        )


def peak_import(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `feeds import …` in its own process; its result and its peak memory (bytes)."""
    measure = (
        "import json, resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024\n"
        "print(json.dumps([done.returncode, done.stdout, done.stderr, peak]))\n"
    )
    command = [sys.executable, "-c", measure, sys.executable, "-m", "feeds", "import", *args]
    measured = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True, timeout=300
    )
    code, stdout, stderr, peak = json.loads(measured.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), peak


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": f"sqlite:///{tmp_path / 'memory.db'}",
        "FEEDS_IMPORT_MAX_ITEM_BYTES": str(MiB),
    }


HUGE = 40  # MiB in one item: what costs many times its size when it is built


@pytest.mark.process
def test_a_huge_wxr_item_is_skipped_in_bounded_memory(env: dict[str, str], tmp_path: Path) -> None:
    small = write(tmp_path / "small.xml", [WXR_HEAD], wxr_item(1), wxr_item(3), [TAIL])
    baseline, baseline_peak = peak_import(env, "wxr", str(small), "--dry-run")
    assert baseline.returncode == 0, baseline.stderr
    huge = write(
        tmp_path / "huge.xml",
        [WXR_HEAD],
        wxr_item(1),
        wxr_item(2, megabytes(HUGE)),
        wxr_item(3),
        [TAIL],
    )
    result, peak = peak_import(env, "wxr", str(huge))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "created 2, updated 0, unchanged 0, skipped 1",
        "  item 2 (guid https://wp.example/?p=2): larger than import_max_item_bytes (1 MiB): "
        "not read",
    ]
    assert peak - baseline_peak < 16 * MiB, f"{peak} bytes at peak, {baseline_peak} for 2 posts"


@pytest.mark.process
def test_a_huge_feed_entry_is_refused_fast_in_bounded_memory(
    env: dict[str, str], tmp_path: Path
) -> None:
    small = write(tmp_path / "small.rss", [RSS_HEAD], rss_item(1), rss_item(3), [TAIL])
    baseline, baseline_peak = peak_import(env, "feed", str(small), "--dry-run")
    assert baseline.returncode == 0, baseline.stderr
    huge = write(
        tmp_path / "huge.rss",
        [RSS_HEAD],
        rss_item(1),
        rss_item(2, megabytes(HUGE)),
        rss_item(3),
        [TAIL],
    )
    start = time.monotonic()
    result, peak = peak_import(env, "feed", str(huge))
    assert time.monotonic() - start < 30
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {huge}: item 2 is larger than import_max_item_bytes (1 MiB): refused, "
        "nothing was imported\n"
    )
    assert peak - baseline_peak < 16 * MiB, f"{peak} bytes at peak, {baseline_peak} for 2 posts"


# --- truncated and broken XML --------------------------------------------------------------


@pytest.mark.parametrize("fixture", [RSS, ATOM], ids=["rss", "atom"])
def test_a_truncated_feed_is_refused_and_says_where(
    store: Store, settings: Settings, tmp_path: Path, fixture: Path
) -> None:
    text = fixture.read_text(encoding="utf-8")
    cut = text[: text.rindex("</item>" if fixture == RSS else "</entry>") - 40]
    path = tmp_path / fixture.name
    path.write_text(cut, encoding="utf-8")
    lines = cut.split("\n")
    with pytest.raises(MalformedXML) as failure:
        import_file(FEED_IMPORTER, store, settings, path)
    assert str(failure.value) == (
        f"{path} is not well-formed XML: it ends at line {len(lines)}, column "
        f"{len(lines[-1].encode())}, before its elements are closed (the file is truncated)"
    )
    assert post_count(store) == 0


def test_a_feed_that_is_not_well_formed_is_refused_with_the_place(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "feed.rss",
        [RSS_HEAD],
        rss_item(1),
        rss_item(2, [b"caf&eacute; &amp; more"]),  # an HTML entity XML does not define
        [TAIL],
    )
    with pytest.raises(MalformedXML) as failure:
        import_file(FEED_IMPORTER, store, settings, path)
    assert str(failure.value) == (
        f"{path} is not well-formed XML: undefined entity: line 4, column 123"
    )
    assert post_count(store) == 0


def test_a_truncated_export_keeps_whole_items_and_says_it_is_truncated(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    whole = b"".join([WXR_HEAD, *wxr_item(1), *wxr_item(2), *wxr_item(3)])
    path = tmp_path / "export.xml"
    path.write_bytes(whole[:-60])  # inside item 3
    with pytest.raises(MalformedXML) as failure:
        import_file(WXR_IMPORTER, store, settings, path, batch_size=1)
    message = str(failure.value)
    assert message.startswith(f"{path} is not well-formed XML: it ends at line 5, column ")
    assert "(the file is truncated) (the first 2 records were committed before it" in message
    assert set(stored_posts(store)) == {"https://wp.example/?p=1", "https://wp.example/?p=2"}


def test_an_empty_file_is_said_to_be_empty(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")
    for importer in (WXR_IMPORTER, FEED_IMPORTER):
        with pytest.raises(ImportFailed, match=f"^{path} is empty$"):
            import_file(importer, store, settings, path)
