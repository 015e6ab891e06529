"""Parsing XML that may be hostile: no DTD entities, no external references, and a clear
message instead of a parser's exception.

A "billion laughs" file declares entities that expand to gigabytes; an external entity
reads a local file or a URL into the document. defusedxml refuses both before expansion.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import iterparse

from feeds.ingest.runner import ImportFailed

_DANGER = (
    "XML entities can expand without bound (billion laughs) or read local files (external entities)"
)


def safe_events(
    stream: IO[bytes], name: str, events: tuple[str, ...], forbid_dtd: bool
) -> Iterator[tuple[str, Element]]:
    """iterparse's (event, element) pairs, streaming; ImportFailed on hostile or malformed XML.

    ``forbid_dtd`` refuses any <!DOCTYPE>; without it a DTD may stand (RSS 0.91 has one)
    but still may not declare entities.
    """
    try:
        yield from iterparse(
            stream, events=events, forbid_dtd=forbid_dtd, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as error:
        raise ImportFailed(f"{name}: refused: {hostile_reason(error)}") from None
    except ParseError as error:
        raise ImportFailed(f"{name} is not well-formed XML: {error}") from None


def refuse_hostile(document: bytes, name: str) -> None:
    """ImportFailed if the prolog of ``document`` declares entities or external references.

    Only the prolog is read (a DTD cannot come later); well-formedness is left to the
    caller's parser, which may be more forgiving.
    """
    try:
        for _event in iterparse(
            io.BytesIO(document), events=("start",), forbid_entities=True, forbid_external=True
        ):
            return
    except DefusedXmlException as error:
        raise ImportFailed(f"{name}: refused: {hostile_reason(error)}") from None
    except ParseError:
        return


def hostile_reason(error: DefusedXmlException) -> str:
    """Why a file defusedxml stopped is refused, in words."""
    if isinstance(error, DTDForbidden):
        found = f"declares a document type (<!DOCTYPE {error.name}>)"
    elif isinstance(error, EntitiesForbidden):
        found = f"declares the entity {error.name!r}"
    else:
        found = "refers to an external resource"
    return f"the XML {found}, and {_DANGER}"
