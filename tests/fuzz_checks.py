"""The properties tests/test_fuzz.py holds feeds to, as assertions on real answers.

- No answer is a 5xx; every 4xx is a JSON ``{"error": …}`` under application/json.
- A refused write leaves the store as it was (every table, row for row).
- A post the API or an import accepted is in every feed that holds it (both formats, any
  page), and every page on the way parses (lxml, and feedparser with bozo 0).
- No feed carries script-capable markup: the HTML of every entry (Atom content and summary,
  RSS description and content:encoded) has no script, no event handler, no javascript: URL,
  no iframe, object, embed or style; and no URL in the feed has a script scheme.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import lxml.html
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select
from werkzeug.test import TestResponse

from feeds.render.page import COPY_SCRIPT
from feeds.store import Store
from feeds.store.models import (
    SUBSCRIBER_KEY_PREFIX,
    Base,
    FeedReader,
    StoreMeta,
    SubscriberReport,
)
from tests.conftest import BASE_URL, parse_feed

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
FORMATS = ("atom", "rss")
MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
# Far more pages than the fuzz store ever holds: more means the pages never end.
MAX_PAGES = 60

# Elements that run script, load a browsing context or restyle the reader's page.
FORBIDDEN_TAGS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "base"}
)
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "data",
        "background",
        "poster",
        "cite",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "srcset",
        "xlink:href",
        "{http://www.w3.org/1999/xlink}href",
    }
)
# What a browser ignores inside a URL scheme: controls and whitespace.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "livescript:")


def describe(method: str, path: str, data: bytes | None = None) -> str:
    """A request in one line, for assertion messages."""
    shown = "" if data is None else f" {data[:300]!r}{'…' if len(data) > 300 else ''}"
    return f"{method} {path}{shown}"


def assert_answer_shape(response: TestResponse, request: str) -> None:
    """No 5xx; a 4xx carries a JSON object with an "error" message, as application/json."""
    status = response.status_code
    assert status < 500, f"{request} answered {status}: {response.data[:1000]!r}"
    if 400 <= status < 500:
        assert response.mimetype == "application/json", (
            f"{request} answered {status} as {response.content_type!r}: {response.data[:300]!r}"
        )
        if response.request.method == "HEAD":
            return
        try:
            body = json.loads(response.data)
        except ValueError:
            raise AssertionError(
                f"{request}: {status} body is not JSON: {response.data!r}"
            ) from None
        assert isinstance(body, dict), f"{request}: {status} body is not an object: {body!r}"
        error = body.get("error")
        assert isinstance(error, str), f"{request}: {status} body has no error: {body!r}"
        assert error.strip(), f"{request}: {status} error message is empty"


# Who polls the feeds: written by each process's tally thread in the background, whatever
# the request being checked (feeds/subscribers/), so left out of the store's content.
POLL_TABLES = frozenset({FeedReader.__tablename__, SubscriberReport.__tablename__})


def store_snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, in a stable order; but the counts of who polls
    (POLL_TABLES, and the day's key of their hashes in store_meta)."""
    snapshot = {}
    with store.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in POLL_TABLES:
                continue
            rows = [tuple(row) for row in session.execute(select(table))]
            if table.name == StoreMeta.__tablename__:
                rows = [row for row in rows if not str(row[0]).startswith(SUBSCRIBER_KEY_PREFIX)]
            snapshot[table.name] = sorted(rows, key=repr)
    return snapshot


def assert_store_unchanged(
    before: Mapping[str, list[tuple[Any, ...]]], store: Store, request: str
) -> None:
    after = store_snapshot(store)
    changed = {
        name: {
            "gone": [row for row in rows if row not in after[name]][:3],
            "new": [row for row in after[name] if row not in rows][:3],
        }
        for name, rows in before.items()
        if after[name] != rows
    }
    assert not changed, f"{request} was refused but changed the store: {changed}"


# --- feeds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """An entry as a feed carries it: its id and the HTML readers will render."""

    id: str
    html: tuple[tuple[str, str], ...]  # (element, HTML source)


_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
_XML_CHARACTER = re.compile("[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _reference_as_browsers_read_it(found: re.Match[str]) -> str:
    """A numeric character reference, or U+FFFD where a browser's HTML parser puts one (a
    control, a surrogate, out of range): lxml refuses such characters, browsers do not."""
    hexadecimal, decimal = found.groups()
    code = int(hexadecimal, 16) if hexadecimal else int(decimal)
    if code > 0x10FFFF or not _XML_CHARACTER.fullmatch(chr(code)):
        return "\ufffd"
    return found.group(0)


def script_problems(html: str) -> list[str]:
    """What in an HTML fragment can run script in a reader that renders it."""
    if not html.strip():
        return []
    try:
        readable = _CHARACTER_REFERENCE.sub(_reference_as_browsers_read_it, html)
        root = lxml.html.fragment_fromstring(readable, create_parent="div")
    except (etree.ParserError, ValueError) as error:
        return [f"unparsable HTML ({error})"]
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        tag = element.tag.lower()
        if tag in FORBIDDEN_TAGS:
            problems.append(f"<{tag}>")
        for name, value in element.attrib.items():
            lowered = name.lower()
            if lowered.startswith("on"):
                problems.append(f"<{tag} {name}=…>")
            elif lowered in URL_ATTRIBUTES and script_url(value):
                problems.append(f"<{tag} {name}={value!r}>")
            elif lowered == "style" and ("javascript:" in value.lower() or "expression(" in value):
                problems.append(f"<{tag} style={value!r}>")
            elif tag == "meta" and lowered == "content" and "url=" in value.lower():
                problems.append(f"<meta content={value!r}>")
    return problems


def script_url(value: str) -> bool:
    """Whether a URL would run script when followed (or shown as a frame)."""
    compact = _IGNORED_IN_SCHEME.sub("", value).lower()
    return compact.startswith(SCRIPT_SCHEMES)


def feed_entries(body: bytes, fmt: str) -> tuple[list[Entry], list[str], str | None]:
    """The entries of a feed, every URL it carries, and its rel="next" link (or None)."""
    root = etree.fromstring(body)
    urls = [
        *(link.get("href", "") for link in root.iter(f"{ATOM}link", "link")),
        *(element.text or "" for element in root.iter(f"{ATOM}uri", "uri", "comments")),
    ]
    entries = []
    if fmt == "atom":
        for entry in root.iterfind(f"{ATOM}entry"):
            html = []
            for name in ("content", "summary"):
                element = entry.find(f"{ATOM}{name}")
                if element is None:
                    continue
                kind = element.get("type", "text")
                if kind == "html":
                    html.append((name, element.text or ""))
                elif kind == "xhtml":
                    html.append((name, etree.tostring(element, encoding="unicode")))
            entries.append(Entry(entry.findtext(f"{ATOM}id") or "", tuple(html)))
        next_link = root.find(f"{ATOM}link[@rel='next']")
    else:
        channel = root.find("channel")
        assert channel is not None, "an RSS feed without <channel>"
        for item in channel.iterfind("item"):
            html = [
                (name, element.text or "")
                for name, element in (
                    ("description", item.find("description")),
                    ("content:encoded", item.find(CONTENT_ENCODED)),
                )
                if element is not None
            ]
            entries.append(Entry(item.findtext("guid") or "", tuple(html)))
        next_link = channel.find(f"{ATOM}link[@rel='next']")
    return entries, urls, None if next_link is None else next_link.get("href")


def assert_feed_answer(
    response: TestResponse, path: str, fmt: str, feedparser_too: bool = True
) -> bytes:
    """A 200 feed answer in the format asked, that lxml and (``feedparser_too``) feedparser
    parse cleanly."""
    assert response.status_code == 200, (
        f"GET {path} answered {response.status_code}: {response.data[:1000]!r}"
    )
    assert response.mimetype == MEDIA_TYPES[fmt], f"GET {path}: {response.content_type}"
    body = response.data
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    try:
        if feedparser_too:
            parse_feed(body)
        else:
            etree.fromstring(body)
    except (AssertionError, etree.XMLSyntaxError) as error:
        raise AssertionError(f"GET {path} does not parse: {error}") from None
    return body


def feed_pages(
    client: FlaskClient, path: str, feedparser_too: bool = True
) -> Iterator[list[Entry]]:
    """The entries of each page of the feed at ``path``, following rel="next"; every page
    must answer 200, parse (lxml, and feedparser unless told not to: it is the slow part),
    carry no script and link only to non-script URLs."""
    fmt = path.rsplit(".", 1)[1]
    url: str | None = path
    for _ in range(MAX_PAGES):
        assert url is not None
        body = assert_feed_answer(client.get(url), url, fmt, feedparser_too)
        entries, urls, next_href = feed_entries(body, fmt)
        for entry in entries:
            for element, html in entry.html:
                problems = script_problems(html)
                assert not problems, (
                    f"GET {url}: entry {entry.id!r} {element} has script-capable markup "
                    f"{problems}: {html[:500]!r}"
                )
        bad_urls = [u for u in urls if script_url(u)]
        assert not bad_urls, f"GET {url} carries script URLs: {bad_urls}"
        yield entries
        if next_href is None:
            return
        assert next_href.startswith(BASE_URL + "/"), f"GET {url}: next page {next_href!r}"
        parts = urlsplit(next_href)
        url = parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"{path} has more than {MAX_PAGES} pages: its next links never end")


def post_feed_paths(post: Mapping[str, Any]) -> list[str]:
    """Every feed that holds ``post`` (the API's JSON of it), in both formats."""
    language = quote(post["language"], safe="")
    scopes = ["/feeds/all", f"/{language}/feeds/all"]
    for category in post["categories"]:
        slug = quote(category["slug"], safe="")
        scopes += [f"/feeds/category/{slug}", f"/{language}/feeds/category/{slug}"]
    return [f"{scope}.{fmt}" for scope in scopes for fmt in FORMATS]


def is_visible(post: Mapping[str, Any], now: datetime) -> bool:
    """Whether the post belongs in its feeds now: published and due."""
    published = post.get("published")
    if post["status"] != "published" or not published:
        return False
    return datetime.fromisoformat(published) <= now


def assert_post_in_its_feeds(client: FlaskClient, post: Mapping[str, Any]) -> None:
    """``post`` is in every feed that holds it, or (a draft, or scheduled) in none; every page
    of those feeds renders, parses and is script-free."""
    visible = is_visible(post, datetime.now(UTC))
    for path in post_feed_paths(post):
        found = any(
            entry.id == post["entry_id"] for page in feed_pages(client, path) for entry in page
        )
        if visible:
            assert found, f"accepted post {post['id']} ({post['published']}) is not in {path}"
        else:
            assert not found, (
                f"post {post['id']} ({post['status']}, {post['published']}) is in {path}"
            )


def assert_feed_renders(client: FlaskClient, scope_path: str) -> None:
    """Every page of a feed, in both formats, renders and is script-free; so is the feed's
    HTML page."""
    for fmt in FORMATS:
        for _ in feed_pages(client, f"{scope_path}.{fmt}"):
            pass
    assert_page_script_free(client, f"{scope_path}.html")


def assert_index_pages_render(client: FlaskClient) -> None:
    """/feeds.json is JSON and / is an HTML page with no script-capable markup."""
    index = client.get("/feeds.json")
    assert index.status_code == 200, f"/feeds.json answered {index.status_code}: {index.data!r}"
    assert isinstance(json.loads(index.data)["feeds"], list)
    assert_page_script_free(client, "/")


def assert_page_script_free(client: FlaskClient, path: str) -> None:
    """``path`` is an HTML page whose one script is feeds' own copy button's, and whose
    body has no other script-capable markup."""
    page = client.get(path)
    assert page.status_code == 200, f"{path} answered {page.status_code}: {page.data[:500]!r}"
    document = lxml.html.document_fromstring(page.data)
    body = document.find("body")
    assert body is not None, f"{path} has no body"
    scripts = list(document.iter("script"))
    problems = [f"<script> {script.text!r}" for script in scripts if script.text != COPY_SCRIPT]
    for script in scripts:
        script.getparent().remove(script)  # the copy button's: checked above
    problems += script_problems(lxml.html.tostring(body, encoding="unicode"))
    assert not problems, f"{path} has script-capable markup: {problems}"
