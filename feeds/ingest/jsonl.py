"""JSON Lines import: one post a line, in the API's JSON form (feeds.post_format).

A post is matched by its external id, else its entry id, so that importing the same file
again, or a store's own export, changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from feeds.ingest.runner import Importer, Record
from feeds.ingest.source import Source
from feeds.post_format import post_from_json
from feeds.store.writes import InvalidInput

BOM = "\ufeff"


def jsonl_records(source: Source) -> Iterator[Record]:
    """A Record for each line that is not blank, read one line at a time."""
    for number, raw in enumerate(source.stream, start=1):
        position = f"line {number}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Record(position, invalid=f"not UTF-8 ({error.reason} at byte {error.start})")
            continue
        if number == 1:
            text = text.removeprefix(BOM)
        if not text.strip():
            continue
        try:
            yield Record(position, post=post_from_json(json.loads(text.rstrip("\r\n"))))
        except json.JSONDecodeError as error:
            yield Record(position, invalid=f"not JSON: {error.msg} (column {error.colno})")
        except InvalidInput as error:
            yield Record(position, invalid=str(error))


# The slug is meant in this format: one another post holds is an error, not renamed.
JSONL_IMPORTER = Importer(lambda source, _settings, _language: jsonl_records(source))
