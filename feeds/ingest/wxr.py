"""WordPress export (WXR) import, streamed: memory stays flat whatever the file's size.

Items of post type ``post`` become posts; their ``<guid>`` becomes the entry id, so that
readers who followed the WordPress feeds see no duplicates after the move. Pages,
attachments, menu items and trashed posts are skipped with a reason.

An attachment is remembered (its id, URL, alt text and size: a few hundred bytes) as the
featured image a post may name. WordPress exports items by id, and a post's images are
mostly uploaded after the post was first saved, so its attachment often comes after it:
such a post is held back in a temporary file, not in memory, and written at the end.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator

from sqlalchemy.orm import Session

from feeds.ingest.languages import site_language
from feeds.ingest.runner import Importer, ImportFailed, Record
from feeds.ingest.safe_xml import UnitReader
from feeds.ingest.source import InputTooLarge, Source, size_text
from feeds.ingest.wxr_document import (
    Channel,
    Item,
    Names,
    WithoutControlBytes,
    read_channel_field,
    read_item,
)
from feeds.ingest.wxr_posts import (
    attachment_image,
    featured_image_id,
    is_post,
    item_record,
    oversize_record,
)
from feeds.settings import Settings
from feeds.store.models import WORDPRESS_IMPORTED
from feeds.store.validation import ImageInput
from feeds.store.writes import set_store_fact


def mark_wordpress_imported(session: Session) -> None:
    """Record that a WordPress export was imported, so that its old feed URLs redirect."""
    set_store_fact(session, WORDPRESS_IMPORTED, "yes")


def wxr_records(source: Source, settings: Settings, language: str | None) -> Iterator[Record]:
    """A Record for each <item> of the export, read one at a time.

    An item larger than import_max_item_bytes is skipped unread, with that reason.
    """
    channel = Channel(language_forced=bool(language))
    limit = settings.import_max_item_bytes
    reader = UnitReader(WithoutControlBytes(source.stream), source.name, limit, forbid_dtd=True)
    names = Names(reader.bindings)
    attachments: dict[str, ImageInput] = {}
    number = 0
    with _HeldItems() as held:
        for unit in reader.units():
            name = names.of(unit.tag)
            if unit.element is None:
                raise RuntimeError("a unit is built before it is read")
            if name == "item":
                number += 1
                if channel.language is None:
                    channel.language = _channel_language(channel, source.name, settings, language)
                item = read_item(unit.element, names)
                attachment = attachment_image(item)
                if attachment is not None:
                    attachments.setdefault(*attachment)
                featured = featured_image_id(item)
                if unit.oversize:
                    yield oversize_record(number, item, limit)
                elif featured and featured not in attachments and is_post(item):
                    held.hold(number, item)
                else:
                    yield item_record(number, item, channel, settings, attachments)
            elif unit.oversize:
                raise InputTooLarge(
                    f"{source.name}: its <{name}> is larger than import_max_item_bytes "
                    f"({size_text(limit)}): refused"
                )
            else:
                read_channel_field(channel, name, unit.element, names)
        if not channel.is_wxr:
            _refuse_not_wxr(source.name)
        for number, item in held.items():
            yield item_record(number, item, channel, settings, attachments)


class _HeldItems:
    """Items held back until the end of the export, one JSON line each in a temporary file."""

    def __enter__(self) -> _HeldItems:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._file.close()

    def hold(self, number: int, item: Item) -> None:
        """Keep ``item`` (the ``number``th) for items()."""
        line = json.dumps([number, item.fields, item.terms, item.meta], ensure_ascii=False)
        self._file.write(line + "\n")

    def items(self) -> Iterator[tuple[int, Item]]:
        """The items held, in the order they came."""
        self._file.seek(0)
        for line in self._file:
            number, fields, terms, meta = json.loads(line)
            yield number, Item(fields, [tuple(t) for t in terms], [tuple(m) for m in meta])


def _channel_language(channel: Channel, name: str, settings: Settings, override: str | None) -> str:
    """The export's language, checked when its first item comes (the channel said it by then)."""
    if not channel.is_wxr:
        _refuse_not_wxr(name)
    return site_language(settings, override, channel.language_tag, name)


def _refuse_not_wxr(name: str) -> None:
    raise ImportFailed(
        f"{name} is not a WordPress export (no <wp:wxr_version>); "
        "for an RSS or Atom feed use `feeds import feed`"
    )


WXR_IMPORTER = Importer(wxr_records, free_slugs=True, finish=mark_wordpress_imported)
