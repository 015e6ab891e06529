"""The media a foreign record gives (a feed's entry, a WordPress post), gathered as the
store will take them: the post's image and its enclosures.

Relative URLs are resolved against the record's link. A media URL the store would refuse
(not http or https, spaces) is left out with a warning, so that the post is imported
without it; a missing or malformed media type is guessed from the URL's extension.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
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
class ForeignMedia:
    """A record's image and enclosures as they are found, and a warning for each one left
    out. ``base`` is the record's link, which relative URLs are resolved against."""

    base: str
    image: ImageInput | None = None
    enclosures: list[EnclosureInput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def offer_image(
        self, address: str, alt: str = "", width: object = None, height: object = None
    ) -> None:
        """Take this image, unless one was taken before (the first offered is the best)."""
        if self.image is not None:
            return
        url = self._url("image", address)
        if url is not None:
            self.image = ImageInput(url, alt, size(width, MAX_PIXELS), size(height, MAX_PIXELS))

    def add_enclosure(self, address: str, kind: str | None, length: object) -> None:
        """Add this enclosure, unless it is one already added or one past the cap."""
        url = self._url("enclosure", address)
        if url is None or any(enclosure.url == url for enclosure in self.enclosures):
            return
        if len(self.enclosures) == MAX_ENCLOSURES:
            warning = f"enclosures past the first {MAX_ENCLOSURES} not imported"
            if warning not in self.warnings:
                self.warnings.append(warning)
            return
        self.enclosures.append(EnclosureInput(url, _media_type(kind, url), size(length, MAX_BYTES)))

    def _url(self, what: str, address: str) -> str | None:
        """``address`` resolved, if the store takes it; else None, and a warning."""
        try:
            resolved = urljoin(self.base, address.strip()) if self.base else address
            return media_url(what, resolved)
        except ValueError as error:  # InvalidInput, or urljoin on a malformed address
            problem = error.problem if isinstance(error, InvalidInput) else str(error)
            self.warnings.append(f"{what} not imported: {problem}")
            return None


def size(value: object, limit: int) -> int | None:
    """A size given as text (``"1234"``) or a number, if it is a whole number from 0 to
    ``limit``; None (unknown) otherwise."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(limit))):
        return None
    return int(text) if int(text) <= limit else None


def _media_type(given: str | None, url: str) -> str:
    """The type given, if it is one; else the one the URL's extension says."""
    try:
        return media_type("type", given or "")
    except InvalidInput:
        guessed, _encoding = mimetypes.guess_type(url, strict=False)
        return guessed or UNKNOWN_TYPE
