"""How fast imports run, and whether their memory grows with the file.

    python bench/import_bench.py [--sizes 1000,10000] [--keep DIR]

It writes a WordPress export (WXR), a JSON Lines file and an RSS feed of each size (posts
of about 4 KB of HTML, in several languages and categories, a few drafts), then imports each into
a fresh SQLite store in a child process, through the same code as `feeds import`
(batches of 500). The child reports the import's time and its peak resident memory
(``ru_maxrss``), and the memory it held before the import began. One table is printed.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "en", "en", "fr", "de", "es", "ar", "ja", "zh-hans", "pt-br")
CATEGORIES = ("tech", "product-news", "company-news", "security", "donjon", "enterprise")
AUTHORS = ("alice", "bchen", "cmartin", "dkim", "eomar")
WORDS = [
    "ledger",
    "wallet",
    "key",
    "seed",
    "phrase",
    "secure",
    "element",
    "firmware",
    "update",
    "recovery",
    "device",
    "transaction",
    "signature",
    "network",
    "custody",
    "blockchain",
    "address",
    "backup",
    "passphrase",
]


def post_fields(number: int) -> dict[str, Any]:
    """The fields of generated post ``number``: the same every run."""
    rng = random.Random(number)
    paragraphs = []
    while sum(len(p) for p in paragraphs) < 4000:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 60)))
        paragraphs.append(
            f'<p>{words.capitalize()}. <a href="/post-{rng.randrange(number + 1)}/">More</a></p>'
        )
    return {
        "title": f"Post {number}: {' '.join(rng.sample(WORDS, 4))}",
        "slug": f"post-{number}",
        "language": rng.choice(LANGUAGES),
        "status": "draft" if rng.random() < 0.03 else "published",
        "published": f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02} "
        f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:00",
        "categories": sorted(set(rng.sample(CATEGORIES, rng.randint(1, 3)))),
        "tags": sorted(set(rng.sample(WORDS, 2))),
        "author": rng.choice(AUTHORS),
        "content": "\n".join(paragraphs),
    }


def write_wxr(out: TextIO, size: int) -> None:
    """A WordPress export of ``size`` posts, with Polylang language terms."""
    out.write(
        '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0"'
        ' xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
        "<title>Bench</title><link>https://bench.example.com</link><language>en-US</language>\n"
        "<wp:wxr_version>1.2</wp:wxr_version>\n"
    )
    for login in AUTHORS:
        out.write(
            f"<wp:author><wp:author_login>{login}</wp:author_login>"
            f"<wp:author_display_name>{login.title()}</wp:author_display_name></wp:author>\n"
        )
    for number in range(size):
        post = post_fields(number)
        status = "publish" if post["status"] == "published" else "draft"
        terms = "".join(
            f'<category domain="category" nicename="{c}"><![CDATA[{c.title()}]]></category>'
            for c in post["categories"]
        ) + "".join(
            f'<category domain="post_tag" nicename="{t}"><![CDATA[{t}]]></category>'
            for t in post["tags"]
        )
        out.write(
            f"<item><title>{escape(post['title'])}</title>"
            f"<link>https://bench.example.com/{post['slug']}/</link>"
            f"<dc:creator><![CDATA[{post['author']}]]></dc:creator>"
            f'<guid isPermaLink="false">https://bench.example.com/?p={number}</guid>'
            f"<content:encoded><![CDATA[{post['content']}]]></content:encoded>"
            "<excerpt:encoded><![CDATA[]]></excerpt:encoded>"
            f"<wp:post_id>{number}</wp:post_id>"
            f"<wp:post_date_gmt><![CDATA[{post['published']}]]></wp:post_date_gmt>"
            f"<wp:post_modified_gmt><![CDATA[{post['published']}]]></wp:post_modified_gmt>"
            f"<wp:post_name><![CDATA[{post['slug']}]]></wp:post_name>"
            f"<wp:status><![CDATA[{status}]]></wp:status>"
            "<wp:post_type><![CDATA[post]]></wp:post_type>"
            f'{terms}<category domain="language" nicename="{post["language"]}">'
            "<![CDATA[lang]]></category></item>\n"
        )
    out.write("</channel>\n</rss>\n")


def write_rss(out: TextIO, size: int) -> None:
    """An RSS 2.0 feed of ``size`` items (the feed importer reads a feed whole)."""
    out.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel><title>Bench</title>'
        "<link>https://bench.example.com/</link><description>d</description>"
        "<language>en-us</language>\n"
    )
    for number in range(size):
        post = post_fields(number)
        categories = "".join(f"<category>{c}</category>" for c in post["categories"])
        out.write(
            f"<item><title>{escape(post['title'])}</title>"
            f"<link>https://bench.example.com/{post['slug']}/</link>"
            f'<guid isPermaLink="false">https://bench.example.com/?p={number}</guid>'
            f"<pubDate>{_rfc822(post['published'])}</pubDate>"
            f"<dc:creator>{post['author'].title()}</dc:creator>"
            f"<dc:language>{post['language']}</dc:language>{categories}"
            f"<content:encoded><![CDATA[{post['content']}]]></content:encoded></item>\n"
        )
    out.write("</channel>\n</rss>\n")


def _rfc822(moment: str) -> str:
    return format_datetime(datetime.fromisoformat(moment).replace(tzinfo=UTC))


def write_jsonl(out: TextIO, size: int) -> None:
    """``size`` posts in the API's JSON form, one a line."""
    for number in range(size):
        post = post_fields(number)
        document = {
            "entry_id": f"https://bench.example.com/?p={number}",
            "title": post["title"],
            "slug": post["slug"],
            "language": post["language"],
            "status": post["status"],
            "published": post["published"].replace(" ", "T") + "Z",
            "content_html": post["content"],
            "categories": [{"slug": c, "name": c.title()} for c in post["categories"]],
            "tags": post["tags"],
            "authors": [post["author"].title()],
        }
        out.write(json.dumps(document, ensure_ascii=False) + "\n")


def child(kind: str, path: str, database: str) -> None:
    """Import ``path`` into a fresh store at ``database``; print the measures as JSON."""
    from feeds.ingest.feed import FEED_IMPORTER
    from feeds.ingest.jsonl import JSONL_IMPORTER
    from feeds.ingest.runner import ImportOptions
    from feeds.ingest.source import open_source
    from feeds.ingest.wxr import WXR_IMPORTER
    from feeds.settings import Settings
    from feeds.store import Store

    importers = {"wxr": WXR_IMPORTER, "jsonl": JSONL_IMPORTER, "feed": FEED_IMPORTER}
    settings = Settings.load(REPO / "config.toml", environ={}).replace(
        database_url=f"sqlite:///{database}"
    )
    store = Store(settings.database_url)
    store.create_schema()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with open_source(path) as source:
        report = importers[kind].run(store, settings, source, ImportOptions())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    imported = report.created + report.updated + report.unchanged
    print(
        json.dumps(
            {
                "posts": imported,
                "skipped": len(report.skips),
                "seconds": seconds,
                "before_kb": before,
                "peak_kb": peak,
            }
        )
    )


def measure(kind: str, path: Path, directory: Path) -> dict[str, Any]:
    """Run the import in a child process and return what it measured."""
    database = directory / f"{path.stem}.db"
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(database)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(completed.stdout.splitlines()[-1])


def files(directory: Path, sizes: list[int]) -> Iterator[tuple[str, int, Path]]:
    """Write the bench files; yields (kind, size, path)."""
    for size in sizes:
        for kind, suffix, writer in FORMATS:
            path = directory / f"{kind}-{size}.{suffix}"
            with path.open("w", encoding="utf-8") as out:
                writer(out, size)
            yield kind, size, path


FORMATS = (("wxr", "xml", write_wxr), ("jsonl", "jsonl", write_jsonl), ("feed", "rss", write_rss))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--keep", type=Path, help="write the files and stores here, and keep them")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FILE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        rows = []
        for kind, size, path in files(directory, sizes):
            result = measure(kind, path, directory)
            rows.append((kind, size, path.stat().st_size, result))
    print(
        "| format | posts | file MB | seconds | posts/s | RSS before MB | peak RSS MB | growth MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, size, file_bytes, r in rows:
        own = (r["peak_kb"] - r["before_kb"]) / 1024
        print(
            f"| {kind} | {size:,} | {file_bytes / 1e6:.1f} | {r['seconds']:.1f} | "
            f"{r['posts'] / r['seconds']:,.0f} | {r['before_kb'] / 1024:.1f} | "
            f"{r['peak_kb'] / 1024:.1f} | {own:.1f} |"
        )


if __name__ == "__main__":
    main()
