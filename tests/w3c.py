"""The W3C Feed Validation Service's own code (vendored in tests/vendor), run on a feed."""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Its modules import one another as the top-level package ``feedvalidator``.
sys.path.append(str(Path(__file__).resolve().parent / "vendor"))
_timeout = socket.getdefaulttimeout()
import feedvalidator  # noqa: E402
from feedvalidator import logging as events  # noqa: E402
from feedvalidator.i18n import en  # noqa: E402

from feeds.serving.links import as_uri  # noqa: E402

# Importing it sets every socket's default timeout to 10 s, for its own URL fetching; the
# other tests keep theirs.
socket.setdefaulttimeout(_timeout)


@dataclass(frozen=True)
class W3CReport:
    """What the validator says of a feed, one readable line per finding."""

    errors: list[str]
    warnings: list[str]


def _finding(event: Any) -> str:
    """An event as the validator's web page words it, with its class: ``Implausible date
    [ImplausibleDate]``."""
    kind = next(kind for kind in type(event).__mro__ if kind in en.messages)
    try:
        message = en.messages[kind] % event.params
    except (KeyError, TypeError, ValueError):
        message = f"{en.messages[kind]} {event.params!r}"
    return f"{message} [{type(event).__name__}]"


def _where(event: Any) -> str:
    return f"line {event.params.get('line', '?')}, column {event.params.get('column', '?')}"


def w3c_report(
    body: bytes, url: str, content_type: str | None = None, accepted: Collection[str] = ()
) -> W3CReport:
    """Validate a feed as the W3C service does when it fetches ``url`` (its self links are
    checked against it; an IRI is fetched as its URI) and, if given, gets ``content_type``.
    Warnings whose finding (the line without its position) is in ``accepted`` are left out."""
    result = feedvalidator.validateStream(
        io.BytesIO(body), firstOccurrenceOnly=1, contentType=content_type, base=as_uri(url)
    )
    found = result["loggedEvents"]
    return W3CReport(
        errors=[f"{_where(e)}: {_finding(e)}" for e in found if isinstance(e, events.Error)],
        warnings=[
            f"{_where(e)}: {_finding(e)}"
            for e in found
            if isinstance(e, events.Warning) and _finding(e) not in accepted
        ],
    )


def w3c_problems(body: bytes, url: str, content_type: str | None = None) -> list[str]:
    """The validator's errors for a feed served at ``url``, as readable lines."""
    return w3c_report(body, url, content_type).errors
