"""What every sender shares: the feeds a batch of changes stands for, the Sender protocol,
and one HTTP request with a deadline whose failures say when to try again."""

from __future__ import annotations

import email.utils
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from feeds.serving.spec import FeedSpec
from feeds.text import printable

USER_AGENT = "feeds (+https://github.com/feeds)"


@dataclass(frozen=True)
class ChangedFeed:
    """One changed feed scope: its outbox key (``cat:3/lang:fr``) and, when the scope still
    has feeds (a deleted category has none), the first page of each of them."""

    scope: str
    specs: tuple[FeedSpec, ...]


class DeliveryFailed(Exception):
    """The other side did not take the announcement; ``retry_after`` (seconds), when it
    said when to try again (503 + Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Sender(Protocol):
    """Announces changed feeds to one outside party."""

    @property
    def name(self) -> str:
        """The target's name in the outbox, the CLI and /metrics: stable across restarts."""
        ...

    def announce(self, feeds: Sequence[ChangedFeed]) -> None:
        """Tell the other side these feeds changed; DeliveryFailed if it did not take it."""
        ...


def send(
    method: str,
    url: str,
    timeout: float,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> int:
    """One HTTP request; its status if 2xx, else DeliveryFailed (with Retry-After for a
    429 or 503 that gives one). Network errors and timeouts are failures too."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryFailed(f"{method} {url}: only http and https URLs are sent to")
    headers = {"User-Agent": USER_AGENT, **(headers or {})}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 (http(s), checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            answer.read(65536)
            return int(answer.status)
    except urllib.error.HTTPError as error:
        detail = printable(error.read(300).decode("utf-8", "replace").strip(), 200)
        retry_after = retry_after_seconds(error.headers.get("Retry-After"))
        message = f"{method} {url}: {error.code} {error.reason}" + (f": {detail}" if detail else "")
        raise DeliveryFailed(message, retry_after) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"{method} {url}: {reason}") from None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) in seconds from now; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
