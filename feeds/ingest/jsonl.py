"""JSON Lines import: one post a line, in the API's JSON form (feeds.store.post_json).

A post is matched by its external id, else its entry id, so that importing the same file
again, or a store's own export, changes nothing.

Each line is read with a bound, ``import_max_item_bytes``: a longer one is skipped without
being held in memory. A line JSON cannot be read into a value (nested too deep, a number
too long) is one invalid record, like any line that is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from feeds.ingest.runner import Importer, Record
from feeds.ingest.source import Source, size_text
from feeds.settings import Settings
from feeds.store.post_json import post_from_json
from feeds.store.validation import InvalidInput

BOM = "\ufeff"
# Python's own default bound on the digits of an int read from text.
MAX_INTEGER_DIGITS = 4300
_SKIP_BYTES = 64 * 1024


class _NumberTooLong(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def jsonl_records(source: Source, settings: Settings) -> Iterator[Record]:
    """A Record for each line that is not blank, read one line at a time."""
    limit = settings.import_max_item_bytes
    number = 0
    while raw := source.stream.readline(limit + 1):
        number += 1
        position = f"line {number}"
        if len(raw) > limit and not raw.endswith(b"\n"):
            _skip_line(source.stream)
            yield Record(
                position, invalid=f"longer than import_max_item_bytes ({size_text(limit)})"
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Record(position, invalid=f"not UTF-8 ({error.reason} at byte {error.start})")
            continue
        if number == 1:
            text = text.removeprefix(BOM)
        if not text.strip():
            continue
        yield _record(position, text.rstrip("\r\n"))


def _record(position: str, text: str) -> Record:
    try:
        document = json.loads(text, parse_int=_integer)
    except json.JSONDecodeError as error:
        return Record(position, invalid=f"not JSON: {error.msg} (column {error.colno})")
    except RecursionError:
        return Record(position, invalid="not JSON feeds can read: nested too deeply")
    except _NumberTooLong as error:
        return Record(
            position,
            invalid=f"not JSON feeds can read: a number of {error.digits} digits "
            f"(at most {MAX_INTEGER_DIGITS})",
        )
    try:
        return Record(position, post=post_from_json(document))
    except InvalidInput as error:
        return Record(position, invalid=str(error))


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise _NumberTooLong(digits)
    return int(text)


def _skip_line(stream: BinaryIO) -> None:
    """Read past the end of the current line, a bounded piece at a time."""
    while True:
        piece = stream.readline(_SKIP_BYTES)
        if not piece or piece.endswith(b"\n"):
            return


# The slug is meant in this format: one another post holds is an error, not renamed.
JSONL_IMPORTER = Importer(lambda source, settings, _language: jsonl_records(source, settings))
