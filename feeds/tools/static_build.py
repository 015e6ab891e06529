"""A static export of every feed, for nginx (gzip_static) or a CDN to serve as files.

``build_static(service, directory)`` writes each feed's first page at its URL path
(``feeds/all.atom``, ``fr/feeds/category/tech.rss``…) with a ``.gz`` sibling, and
``feeds.json`` and ``feeds.opml``, each feed's HTML page (``feeds/all.html``, with the
pages' stylesheet and icon, ``static/``), and every sealed archive document of the site and
category feeds (RFC 5005, ``feeds/all/archive/3.atom``). It is incremental: a manifest
remembers the revision each file was built at, and only feeds whose revision moved (or whose
scheduled post fell due) are rendered again; a file is rewritten only when its bytes
changed, atomically (write, then rename), with its modification time set to the feed's own
update time, so that the file server's Last-Modified is honest. An archive is written once
and never rendered again while its file is there: a site has many, and its range never moves
(an edit inside it reaches the served feeds, not the export; delete the file to have it
written again).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from feeds.render.index import feed_index, listed_feeds
from feeds.render.opml import opml_document
from feeds.serving.service import FeedService
from feeds.serving.spec import ARCHIVE_FORMATS, FeedFormat, FeedSpec, ScopeKind
from feeds.store import queries
from feeds.store.archives import newest_archive_number
from feeds.store.revisions import RevisionView

MANIFEST = ".feeds-build.json"
PACKAGE = Path(__file__).resolve().parent.parent
ASSETS = ("static/feeds.css", "static/favicon.svg")  # what the pages link, where they do


@dataclass
class BuildResult:
    """What a build did: feeds rendered and rewritten, rendered but identical, skipped."""

    written: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def build_static(service: FeedService, directory: Path, now: datetime | None = None) -> BuildResult:
    """Bring ``directory`` up to date with every feed of the store."""
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    previous = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    view = service.revisions.view()
    with service.store.session() as session:
        categories = {c.slug: c for c in queries.all_categories(session)}
        listed = queries.listed_terms(session, now, service.settings.tag_feed_min_posts)
    specs = listed_feeds(service.settings, categories, listed, tuple(FeedFormat))
    specs += _every_archive(service, view, categories)
    result = BuildResult()
    manifest: dict[str, dict[str, object]] = {}
    for spec in specs:
        name = spec.path.lstrip("/")
        revision = view.revision_for(spec)
        known = previous.get(name)
        final_and_written = known and known.get("final") and (directory / name).is_file()
        if known and (
            final_and_written or (known["revision"] == revision and _still_valid(known, now))
        ):
            manifest[name] = known
            result.skipped.append(name)
            continue
        representation = service.render(spec, revision, now)
        target = directory / name
        if known and known["etag"] == representation.etag and target.is_file():
            result.identical.append(name)
        else:
            mtime = representation.last_modified.timestamp()
            _write_atomically(target, representation.identity, mtime)
            _write_atomically(target.with_name(target.name + ".gz"), representation.gzip, mtime)
            result.written.append(name)
        valid_until = representation.valid_until
        manifest[name] = {
            "revision": revision,
            "etag": representation.etag,
            "valid_until": valid_until.isoformat() if valid_until else None,
            "final": representation.immutable,
        }
    for name in sorted(set(previous) - set(manifest)):  # feeds of deleted categories
        for stale in (directory / name, directory / f"{name}.gz"):
            stale.unlink(missing_ok=True)
        result.removed.append(name)
    index = feed_index(service.settings, categories, listed)
    index_json = json.dumps(index, ensure_ascii=False).encode()
    _write_atomically(directory / "feeds.json", index_json, now.timestamp())
    opml = opml_document(service.settings, index, service.site_updated(now))
    _write_atomically(directory / "feeds.opml", opml, now.timestamp())
    for asset in ASSETS:
        _write_atomically(directory / asset, (PACKAGE / asset).read_bytes(), now.timestamp())
    _write_atomically(manifest_path, json.dumps(manifest, indent=1).encode(), now.timestamp())
    return result


def _every_archive(
    service: FeedService, view: RevisionView, categories: Iterable[str]
) -> list[FeedSpec]:
    """Every archive document of the site feed and each category's, in each format."""
    archived = [(ScopeKind.SITE, ()), *((ScopeKind.CATEGORY, (slug,)) for slug in categories)]
    archives = []
    with service.store.session() as session:
        for kind, slugs in archived:
            feed = FeedSpec(FeedFormat.ATOM, kind, slugs)
            sealed = session.scalar(newest_archive_number(view.scopes_of(feed)[0])) or 0
            archives += [
                replace(feed, format=fmt).at_archive(number)
                for number in range(1, sealed + 1)
                for fmt in sorted(ARCHIVE_FORMATS)
            ]
    return archives


def _still_valid(known: dict[str, object], now: datetime) -> bool:
    valid_until = known.get("valid_until")
    return valid_until is None or now < datetime.fromisoformat(str(valid_until))


def _write_atomically(target: Path, data: bytes, mtime: float) -> None:
    """Write ``data`` to ``target`` so that a reader sees the old file or the new, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.utime(temporary, (mtime, mtime))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
