"""Reading XML that may be hostile, broken or huge: no DTD entities, no external references,
bounded memory, and a clear message instead of a parser's exception.

A "billion laughs" file declares entities that expand to gigabytes; an external entity
reads a local file or a URL into the document. defusedxml refuses both before expansion.

Feeds and WordPress exports are lists of small records, so a document is read as a stream
of *units*: the children of ``<channel>`` (RSS 2.0, WXR) or of the root element (Atom,
RSS 1.0), one at a time. A unit larger than ``import_max_item_bytes`` is not built: its
text is dropped as it comes and it is reported as oversize, so that one 200 MB item costs
no more memory than a small one. A single tag or comment that large is refused outright,
as the parser would have to hold it whole.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser

from feeds.ingest.runner import ImportFailed
from feeds.ingest.source import InputTooLarge, size_text
from feeds.ingest.xml_encoding import UnknownEncoding, parser_encoding

CHUNK_BYTES = 64 * 1024
_DANGER = (
    "XML entities can expand without bound (billion laughs) or read local files (external entities)"
)
# Of a unit too large to keep, the small fields kept to name it (a guid, a post type).
_KEPT_FIELD_CHARACTERS = 2048
_KEPT_FIELDS = 64


class HostileXML(ImportFailed):
    """The document declares entities or refers to external resources."""


class MalformedXML(ImportFailed):
    """The document is not well-formed XML: broken, truncated or empty. ``detail`` is the
    parser's word for it, with the line and column."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class EmptyDocument(MalformedXML):
    """The document has not a single byte."""


@dataclass(frozen=True)
class Unit:
    """One child of ``<channel>`` or of the root: ``tag`` is ``{namespace}local``.

    ``element`` holds it, when units are built. An ``oversize`` unit is reported as soon
    as it passes the limit, with only the small fields that came before, and the rest of
    it is skipped unread.
    """

    tag: str
    element: Element | None
    oversize: bool = False


class ReadableBytes(Protocol):
    """What UnitReader needs of a stream: ``read(size)`` giving bytes."""

    def read(self, size: int = -1, /) -> bytes: ...


class UnitReader:
    """The units of an XML stream, read a chunk at a time within ``max_unit_bytes``.

    Iterate ``units()``. ``bindings`` holds the namespace declarations met so far, as
    (prefix, URI), and ``root`` the root element's tag. ``forbid_dtd`` refuses any
    <!DOCTYPE> (a DTD may otherwise stand, as RSS 0.91's does, but declare no entity);
    ``build`` False only measures the units; ``charset`` (an HTTP header's) overrides the
    document's own declaration. ImportFailed (HostileXML, MalformedXML, UnknownEncoding,
    InputTooLarge) says why a document cannot be read.
    """

    def __init__(
        self,
        stream: ReadableBytes,
        name: str,
        max_unit_bytes: int,
        *,
        forbid_dtd: bool,
        build: bool = True,
        charset: str | None = None,
    ) -> None:
        self.name = name
        self.bindings: list[tuple[str, str]] = []
        self.root: str | None = None
        self._stream = stream
        self._max = max_unit_bytes
        self._forbid_dtd = forbid_dtd
        self._build = build
        self._charset = charset
        self._done: list[Unit] = []
        self._depth = 0
        self._unit_depth = 2
        self._builder: TreeBuilder | None = None
        self._unit: Element | None = None
        self._unit_tag = ""
        self._unit_start: int | None = None
        self._oversize = False
        self._fed = 0  # bytes fed to the parser before the chunk it is parsing
        self._events = 0
        self._events_seen = 0
        self._quiet_since = 0  # bytes fed when the parser last reported anything

    def units(self) -> Iterator[Unit]:
        """Each unit once its end tag is read (an oversize one once it is known to be), in
        document order."""
        first = self._stream.read(CHUNK_BYTES)
        encoding, decoder = parser_encoding(first, self.name, self._charset)
        parser = DefusedXMLParser(
            target=self,
            encoding=encoding,
            forbid_dtd=self._forbid_dtd,
            forbid_entities=True,
            forbid_external=True,
        )
        chunk = first
        while chunk:
            data = self._decode(decoder, chunk, final=False)
            with self._parsing():
                parser.feed(data)
            self._fed += len(chunk)
            self._check()
            yield from self._take()
            chunk = self._stream.read(CHUNK_BYTES)
        rest = self._decode(decoder, b"", final=True)
        with self._parsing(at_end=True):
            if rest:
                parser.feed(rest)
            parser.close()
        yield from self._take()

    # --- parser target: what expat reports ----------------------------------------------

    def start_ns(self, prefix: str, uri: str) -> None:
        self._events += 1
        self.bindings.append((prefix, uri))

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._events += 1
        self._depth += 1
        if self._depth == 1:
            self.root = tag
            self._unit_depth = 3 if _local(tag) == "rss" else 2
            return
        if self._depth == self._unit_depth:
            self._unit_tag = tag
            self._unit_start = self._fed
            self._oversize = False
            self._builder = TreeBuilder() if self._build else None
        if self._builder is not None and self._depth >= self._unit_depth:
            element = self._builder.start(tag, attrib)
            if self._depth == self._unit_depth:
                self._unit = element

    def data(self, text: str) -> None:
        self._events += 1
        if self._builder is not None and self._depth >= self._unit_depth:
            self._builder.data(text)

    def comment(self, _text: str) -> None:
        self._events += 1

    def pi(self, _target: str, _text: str) -> None:
        self._events += 1

    def end(self, tag: str) -> None:
        self._events += 1
        if self._builder is not None and self._depth >= self._unit_depth:
            self._builder.end(tag)
        if self._depth == self._unit_depth:
            if not self._oversize:  # an oversize unit was reported when it became one
                element = self._builder.close() if self._builder is not None else None
                self._done.append(Unit(tag, element))
            self._builder, self._unit, self._unit_start = None, None, None
        self._depth -= 1

    # --- bounds -------------------------------------------------------------------------

    def _check(self) -> None:
        """After each chunk: stop building a unit past the limit; refuse a token past it."""
        if self._events != self._events_seen:
            self._events_seen = self._events
            self._quiet_since = self._fed
        elif self._fed - self._quiet_since > self._max:
            raise InputTooLarge(
                f"{self.name}: a single tag, comment or declaration near byte "
                f"{self._quiet_since} is larger than import_max_item_bytes "
                f"({size_text(self._max)}): refused"
            )
        if (
            self._unit_start is not None
            and not self._oversize
            and self._fed - self._unit_start > self._max
        ):
            self._oversize = True
            small = _small_fields(self._unit) if self._unit is not None else None
            self._done.append(Unit(self._unit_tag, small, oversize=True))
            # Drops what was built, and builds no more of this unit.
            self._builder, self._unit = None, None

    def _take(self) -> list[Unit]:
        done, self._done = self._done, []
        return done

    # --- encodings and errors -----------------------------------------------------------

    def _decode(
        self, decoder: codecs.IncrementalDecoder | None, chunk: bytes, final: bool
    ) -> bytes | str:
        """``chunk`` as the parser takes it: bytes for expat to decode, else text."""
        if decoder is None:
            return chunk
        try:
            return decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            raise MalformedXML(
                f"{self.name} is not valid {error.encoding}: {error.reason} near byte "
                f"{self._fed + error.start}"
            ) from None

    @contextmanager
    def _parsing(self, at_end: bool = False) -> Iterator[None]:
        """The parser's errors as ImportFailed: hostile, malformed, truncated, encoding."""
        try:
            yield
        except DefusedXmlException as error:
            raise HostileXML(f"{self.name}: refused: {hostile_reason(error)}") from None
        except ParseError as error:
            if not at_end:
                raise MalformedXML(
                    f"{self.name} is not well-formed XML: {error}", str(error)
                ) from None
            if not self._fed:
                raise EmptyDocument(f"{self.name} is empty", "empty") from None
            line, column = error.position
            raise MalformedXML(
                f"{self.name} is not well-formed XML: it ends at line {line}, column "
                f"{column}, before its elements are closed (the file is truncated)",
                str(error),
            ) from None
        except (LookupError, ValueError) as error:  # an encoding expat cannot read
            raise UnknownEncoding(f"{self.name}: cannot read its encoding ({error})") from None


def hostile_reason(error: DefusedXmlException) -> str:
    """Why a file defusedxml stopped is refused, in words."""
    if isinstance(error, DTDForbidden):
        found = f"declares a document type (<!DOCTYPE {error.name}>)"
    elif isinstance(error, EntitiesForbidden):
        found = f"declares the entity {error.name!r}"
    else:
        found = "refers to an external resource"
    return f"the XML {found}, and {_DANGER}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _small_fields(unit: Element) -> Element:
    """A copy of ``unit`` with only its first small, complete fields (to name it by)."""
    kept = Element(unit.tag, unit.attrib)
    for child in list(unit)[:_KEPT_FIELDS]:
        if len(child) == 0 and len(child.text or "") <= _KEPT_FIELD_CHARACTERS:
            kept.append(child)
    return kept
