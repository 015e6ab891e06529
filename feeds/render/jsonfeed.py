"""The JSON Feed 1.1 writer (https://www.jsonfeed.org/version/1.1/): a FeedDocument as bytes.

The standard json module writes it: UTF-8 with the text as is (no ``\\u`` escapes), no
spaces, keys in a fixed order with ``version`` first, so that the same document always
gives the same bytes (and ETag).

What JSON Feed cannot say is left out: RFC 6721 tombstones (a deleted post simply leaves
the JSON feed), an author's email (its authors have a name and a URL only), the ``first``
link of an older page (it has only ``next_url``), and the category schemes that tell a
category from a tag (both are ``tags``).
"""

from __future__ import annotations

import json
from typing import Any

from feeds.render.document import Entry, FeedDocument
from feeds.serving.content import Enclosure, Person
from feeds.serving.links import as_uri

VERSION = "https://jsonfeed.org/version/1.1"


def write_json(document: FeedDocument) -> bytes:
    """``document`` as a JSON Feed 1.1 document, UTF-8. Its URLs are URIs (JSON Feed asks
    for URLs): a Unicode slug in a feed's or a post's address is percent-encoded, as in the
    HTTP Link header and the hub pings."""
    feed: dict[str, Any] = {"version": VERSION, "title": document.title}
    _add_link(feed, "home_page_url", document, "alternate")
    _add_link(feed, "feed_url", document, "self")
    if document.subtitle:
        feed["description"] = document.subtitle
    _add_link(feed, "next_url", document, "next")
    feed["authors"] = [_author(document.author)]
    feed["language"] = document.language
    hubs = [{"type": "WebSub", "url": link.href} for link in document.links if link.rel == "hub"]
    if hubs:
        feed["hubs"] = hubs
    feed["items"] = [_item(entry) for entry in document.entries]
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode()


def _add_link(feed: dict[str, Any], key: str, document: FeedDocument, rel: str) -> None:
    link = document.link(rel)
    if link is not None:
        feed[key] = as_uri(link.href)


def _item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id, "url": as_uri(entry.link.href), "title": entry.title}
    if entry.content_html:
        item["content_html"] = entry.content_html
        if entry.summary:
            item["summary"] = entry.summary
    else:
        # One of content_html and content_text must be there: a post without HTML is its summary.
        item["content_text"] = entry.summary
    # RFC 3339 with its offset: the store's datetimes always carry their time zone (UTC).
    item["date_published"] = entry.published.isoformat()
    item["date_modified"] = entry.updated.isoformat()
    if entry.authors:
        item["authors"] = [_author(person) for person in entry.authors]
    # Category and tag labels alike, each once (a tag may be named like a category).
    tags = list(dict.fromkeys(category.label for category in entry.categories))
    if tags:
        item["tags"] = tags
    item["language"] = entry.language
    if entry.image is not None:
        item["image"] = entry.image.url
    if entry.enclosures:
        item["attachments"] = [_attachment(enclosure) for enclosure in entry.enclosures]
    return item


def _attachment(enclosure: Enclosure) -> dict[str, Any]:
    attachment: dict[str, Any] = {"url": enclosure.url, "mime_type": enclosure.media_type}
    if enclosure.length is not None:
        attachment["size_in_bytes"] = enclosure.length
    return attachment


def _author(person: Person) -> dict[str, str]:
    author = {"name": person.name}
    if person.uri:
        author["url"] = person.uri
    return author
