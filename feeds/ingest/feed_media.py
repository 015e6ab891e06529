"""The media of a feed's entry, as feedparser reads them: the post's image and enclosures.

RSS ``<enclosure>`` and Atom ``link rel="enclosure"`` are enclosures; Media RSS
``media:content`` is the image when it is one (medium="image" or an image/* type), else an
enclosure; ``media:thumbnail`` is the image when nothing better is. Relative URLs are
resolved against the entry's link. A media URL the store would refuse (not http or https)
is left out with a warning, so that the post is imported without it.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from feeds.store.validation import (
    MAX_BYTES,
    MAX_ENCLOSURES,
    MAX_PIXELS,
    EnclosureInput,
    ImageInput,
    InvalidInput,
    media_type,
    media_url,
)

UNKNOWN_TYPE = "application/octet-stream"


@dataclass
class EntryMedia:
    """An entry's image and enclosures, and a warning for each one left out."""

    image: ImageInput | None = None
    enclosures: list[EnclosureInput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def entry_media(entry: Mapping[str, Any], link: str) -> EntryMedia:
    """The image and enclosures of a feedparser entry whose link is ``link``."""
    media = EntryMedia()
    found: list[tuple[str, str | None, Any]] = [  # (url, type, length)
        (item.get("href", ""), item.get("type"), item.get("length"))
        for item in entry.get("enclosures") or []
    ]
    images = []
    for item in entry.get("media_content") or []:
        kind = item.get("type") or ""
        if item.get("medium") == "image" or kind.startswith("image/"):
            images.append(item)
        else:
            found.append((item.get("url", ""), kind, item.get("filesize")))
    images += entry.get("media_thumbnail") or []
    for item in images:
        url = _url(media, "image", item.get("url", ""), link)
        if url is not None:
            size = (_number(item.get(side), MAX_PIXELS) for side in ("width", "height"))
            media.image = ImageInput(url, "", *size)
            break
    seen = set()
    for address, kind, length in found:
        url = _url(media, "enclosure", address, link)
        if url is None or url in seen:
            continue
        if len(media.enclosures) == MAX_ENCLOSURES:
            media.warnings.append(f"enclosures past the first {MAX_ENCLOSURES} not imported")
            break
        seen.add(url)
        media.enclosures.append(
            EnclosureInput(url, _media_type(kind, url), _number(length, MAX_BYTES))
        )
    return media


def _url(media: EntryMedia, what: str, address: str, link: str) -> str | None:
    """``address`` resolved against ``link`` if the store takes it; else None, and a warning."""
    try:
        return media_url(what, urljoin(link, address.strip()) if link else address)
    except (InvalidInput, ValueError) as error:
        problem = error.problem if isinstance(error, InvalidInput) else str(error)
        media.warnings.append(f"{what} not imported: {problem}")
        return None


def _media_type(given: str | None, url: str) -> str:
    """The type the feed gives if it is one, else the one the URL's extension says."""
    try:
        return media_type("type", given or "")
    except InvalidInput:
        guessed, _encoding = mimetypes.guess_type(url, strict=False)
        return guessed or UNKNOWN_TYPE


def _number(value: Any, limit: int) -> int | None:
    """A size given as text (``"1234"``), if it is a whole number the store can keep."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(limit))):
        return None
    return int(text) if int(text) <= limit else None
