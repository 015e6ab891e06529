"""The encoding an XML document is read in: its HTTP charset, else its own declaration.
expat decodes the few encodings it knows; Python decodes any other, and expat is fed text."""

from __future__ import annotations

import codecs
import re

from feeds.ingest.runner import ImportFailed

# The encoding an XML declaration names; only looked for in ASCII-compatible documents.
_DECLARED_ENCODING = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([^\"']{1,64})[\"']"
)
# Encodings expat decodes itself (codecs' names for them); Python decodes any other.
_EXPAT_ENCODINGS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "ascii"})


class UnknownEncoding(ImportFailed):
    """The document (or its HTTP charset) names an encoding Python does not know."""


def parser_encoding(
    first: bytes, name: str, charset: str | None
) -> tuple[str | None, codecs.IncrementalDecoder | None]:
    """The encoding to give expat, and a Python decoder when expat cannot decode it, for the
    document ``name`` that begins with ``first``; ``charset`` (an HTTP header's) overrides
    the document's declaration. UnknownEncoding if Python does not know the one named."""
    found = _DECLARED_ENCODING.match(first)
    declared = charset or (found.group(1).decode("ascii", "replace") if found else None)
    if declared is None:
        return None, None
    try:
        codec = codecs.lookup(declared)
    except LookupError:
        said = "is served as charset" if charset else "declares the encoding"
        raise UnknownEncoding(
            f"{name} {said} {declared!r}, which is not an encoding Python knows"
        ) from None
    if codec.name in _EXPAT_ENCODINGS:
        return (declared if charset else None), None
    # Fed as text, which expat takes as UTF-8 whatever the declaration says.
    return "utf-8", codec.incrementaldecoder("strict")
