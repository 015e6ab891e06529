"""The cache of rendered feeds: bytes ready to send, keyed by feed and store revision.

A feed is rendered and compressed once per change of its scope; every poll in between is
answered from here. The cache is bounded in bytes and evicts the least recently used feed.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from werkzeug.http import http_date

from feeds.render import RenderedFeed
from feeds.serving.links import link_header
from feeds.serving.spec import FeedSpec
from feeds.serving.surrogate import surrogate_keys

GZIP_LEVEL = 9  # compressed once per revision, so the best ratio is worth its time


@dataclass(frozen=True, slots=True)
class Representation:
    """One rendered feed and everything its HTTP answers need, computed once.

    ``headers`` are those every answer of it carries, 200 or 304, whatever the encoding:
    Last-Modified, Link (its hubs and self, for WebSub discovery), and the surrogate keys of
    the caches in front (``Surrogate-Key`` space-separated, ``Cache-Tag`` comma-separated).
    ``revision`` is the scope revision it was rendered at; ``valid_until`` is when it goes
    stale with no write at all (a scheduled post falls due, a tombstone ages out);
    ``rendered_at`` is when it was read from the store, so known current then.
    ``immutable``: a sealed archive (RFC 5005) that links the next one: its bytes are final,
    so caches may keep it for a year.
    """

    identity: bytes
    gzip: bytes
    etag: str
    last_modified: datetime
    headers: tuple[tuple[str, str], ...]
    revision: int
    valid_until: datetime | None
    rendered_at: datetime
    immutable: bool = False

    @classmethod
    def of(
        cls,
        rendered: RenderedFeed,
        revision: int,
        valid_until: datetime | None,
        rendered_at: datetime | None = None,
        *,
        immutable: bool = False,
    ) -> Representation:
        """Compress and tag a feed rendered at ``rendered_at`` (default: now).

        The ETag hashes the bytes, once here: every worker and instance that renders the
        same feed gives it the same ETag, and a cache hit hashes nothing; its headers are
        formatted here too."""
        keys = surrogate_keys(rendered.scopes)
        headers = [("Last-Modified", http_date(rendered.updated))]
        if rendered.header_links:
            links = ((link.href, link.rel) for link in rendered.header_links)
            headers.append(("Link", link_header(links)))
        headers += [("Surrogate-Key", " ".join(keys)), ("Cache-Tag", ",".join(keys))]
        return cls(
            identity=rendered.body,
            gzip=gzip.compress(rendered.body, compresslevel=GZIP_LEVEL, mtime=0),
            etag=hashlib.blake2b(rendered.body, digest_size=12).hexdigest(),
            last_modified=rendered.updated,
            headers=tuple(headers),
            revision=revision,
            valid_until=valid_until,
            rendered_at=rendered_at or datetime.now(UTC),
            immutable=immutable,
        )

    @property
    def size(self) -> int:
        """Bytes this representation holds in the cache."""
        return len(self.identity) + len(self.gzip) + 200 + sum(len(v) for _, v in self.headers)

    def is_current(self, revision: int, now: datetime) -> bool:
        """Whether it still shows the feed at ``revision`` and time ``now``."""
        return self.revision == revision and (self.valid_until is None or now < self.valid_until)


class FeedCache:
    """Representations by FeedSpec, at most ``max_bytes`` in all, least recently used out."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[FeedSpec, Representation] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, spec: FeedSpec) -> Representation | None:
        """The cached representation of ``spec``, if any (current or not)."""
        with self._lock:
            found = self._entries.get(spec)
            if found is not None:
                self._entries.move_to_end(spec)
            return found

    def put(self, spec: FeedSpec, representation: Representation) -> None:
        """Keep ``representation`` for ``spec``, evicting the least recently used to fit."""
        if representation.size > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(spec, None)
            if previous is not None:
                self._bytes -= previous.size
            self._entries[spec] = representation
            self._bytes += representation.size
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    @property
    def bytes_used(self) -> int:
        """How many bytes the cached representations hold."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
