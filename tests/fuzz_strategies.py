"""Hypothesis strategies for tests/test_fuzz.py: hostile text, API documents, request bodies,
import files (JSON Lines, WordPress exports, RSS and Atom) and public requests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

# --- hostile text ------------------------------------------------------------------------


def weighted(*branches: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each ``weight`` times as likely as a strategy of weight 1;
    the first shrinks best. (st.one_of drops a strategy given twice, so weights need
    distinct copies.)"""
    copies = [
        strategy.map(lambda value: value) for weight, strategy in branches for _ in range(weight)
    ]
    return st.one_of(copies)


CONTROLS = [*(chr(c) for c in (0, 1, 8, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F)), "\x80", "\x85", "\x9f"]
NONCHARACTERS = ["\ufffe", "\uffff", "\U0001fffe", "\U0010ffff", "\ufdd0"]
LONE_SURROGATES = ["\ud800", "\udfff", "\udbff", "\udc00"]
CHARACTER_REFERENCES = [
    "&#0;",
    "&#1;",
    "&#x1;",
    "&#X1F;",
    "&#01;",
    "&#27;",
    "&#x0C;",
    "&#128;",
    "&#x85;",
    "&#xFFFE;",
    "&#xffff;",
    "&#xD800;",
    "&#55296;",
    "&#x110000;",
    "&#99999999999;",
    "&#1",
    "&amp;#1;",
    "&#x1d54f;",
]
SCRIPT_MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<iframe src="https://evil.example/"></iframe>',
    "<object data=x></object>",
    "<embed src=x>",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<base href=javascript:/>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<div onmouseover=alert(1)>x</div>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="vbscript:msgbox(1)">',
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!-- <script>alert(1)</script> -->",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<p>&#1;</p>",
    "<p>&#xFFFE;</p>",
]
UNICODE_ODDITIES = [
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u061c",
    "\ufeff",
    "\u2028",
    "\u2029",
    "\u00a0",
    "e\u0301",
    "\U0001d54f",
    "🏳️\u200d🌈",
    "İ",
    "ß",
    "ﬁ",
    "Ⅻ",
    "²",
    "١٢٣",
    "\U000e0001",
    "مرحبا",
    "שלום",
    "中文",
]
STRUCTURE = [
    "&",
    "<",
    ">",
    '"',
    "'",
    "]]>",
    "\r\n",
    "\r",
    "\t",
    " ",
    "%00",
    "%",
    "/",
    "?",
    "#",
    "\\",
    "..",
    ".",
    "{",
    "}",
    "{slug}",
    "{home}",
    "%s",
    "a",
    "tech",
]
FRAGMENTS = [
    *CONTROLS,
    *NONCHARACTERS,
    *LONE_SURROGATES,
    *CHARACTER_REFERENCES,
    *SCRIPT_MARKUP,
    *UNICODE_ODDITIES,
    *STRUCTURE,
]

# Any code point, lone surrogates and controls included.
any_character = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())


def hostile_text(max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Text made of hostile fragments and arbitrary code points."""
    piece = weighted(
        (2, st.sampled_from(FRAGMENTS)),
        (1, st.text(any_character, max_size=8)),
        (1, st.text(max_size=8)),
    )
    return st.lists(piece, max_size=max_pieces).map("".join)


def readable_text() -> st.SearchStrategy[str]:
    """Text that is usually acceptable as a title: a word, then hostile fragments."""
    word = st.sampled_from(["Hello", "Café", "مرحبا", "日本語", "Post", "x"])
    return st.tuples(word, hostile_text(4)).map("".join)


# JSON values of the wrong type for any field (json.dumps accepts NaN and Infinity).
wrong_types: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def sometimes_wrong(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``strategy`` most of the time, a value of another type now and then."""
    return weighted((19, strategy), (1, wrong_types))


# --- dates -------------------------------------------------------------------------------

BAD_DATES = [
    "monday 9am UTC",
    "1/2/2024 10:00Z",
    "2024-13-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01T24:00:01Z",
    "2024-01-01T00:00:00",
    "2024-01-01",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00+99:99",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0000-00-00 00:00:00",
    "²⁰²⁴-01-01T00:00:00Z",
    "２０２４-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999Z",
    "1900-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "Tue, 05 Mar 2024 10:00:00 +0000",
    "now",
    "",
    " ",
    "2024-01-01T00:00:00 Z",
    "2024-01-01T00:00:00.1234567890123Z",
]

offsets = st.one_of(
    st.just(UTC),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
)
any_datetime = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
)
# Dates a post may well have: 1950 to 2100 (past, recent, and scheduled in the future).
plausible_datetime = st.datetimes(
    min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
)


def iso(moment: datetime) -> str:
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if text.endswith("+00:00") else text


date_values: st.SearchStrategy[Any] = weighted(
    (6, plausible_datetime.map(iso)),
    (1, any_datetime.map(iso)),
    (1, st.sampled_from(BAD_DATES)),
    (1, hostile_text(3)),
    (1, wrong_types),
)

# --- admin API documents -----------------------------------------------------------------

LANGUAGES = ["en", "ar", "zh-hans", "fr", "de", "ru", "es", "ja", "ko", "tr", "pt-br"]
KNOWN_SLUGS = ["tech", "news", "product-news", "café", "x", "a.rss", "数码", "أخبار"]

slug_text = weighted((3, st.sampled_from(KNOWN_SLUGS)), (1, hostile_text(4)))
term = weighted(
    (6, slug_text),
    (
        3,
        st.fixed_dictionaries(
            {"slug": slug_text}, optional={"name": sometimes_wrong(hostile_text())}
        ),
    ),
    (1, wrong_types),
)
terms = weighted(
    (10, st.lists(term, max_size=4)),
    # Many terms at once: around the bound on terms per post.
    (1, st.integers(min_value=95, max_value=130).map(lambda n: [f"c{i}" for i in range(n)])),
    (1, wrong_types),
)
author_object = st.fixed_dictionaries(
    {"name": sometimes_wrong(readable_text())},
    optional={
        "email": sometimes_wrong(
            st.one_of(st.just("ada@example.com"), hostile_text(3).map(lambda t: t + "@x.org"))
        ),
        "uri": sometimes_wrong(
            st.sampled_from(
                ["https://example.com/ada", "javascript:alert(1)", "/relative", "x", "", "mailto:a"]
            )
        ),
    },
)
author = weighted((6, readable_text()), (3, author_object), (1, wrong_types))
authors = weighted((9, st.lists(author, max_size=3)), (1, wrong_types))
language_values = weighted((9, st.sampled_from(LANGUAGES)), (1, hostile_text()))
html_values = weighted(
    (3, hostile_text()),
    (
        3,
        st.lists(st.sampled_from([*SCRIPT_MARKUP, *CHARACTER_REFERENCES]), max_size=4).map("".join),
    ),
    (1, st.sampled_from(["", "<p>Plain, fine content.</p>"])),
)

POST_FIELDS_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "slug": sometimes_wrong(slug_text),
    "summary": sometimes_wrong(html_values),
    "content_html": sometimes_wrong(html_values),
    "status": sometimes_wrong(st.sampled_from(["published", "published", "draft", "Published"])),
    "published": date_values,
    "updated": date_values,
    "categories": terms,
    "tags": terms,
    "authors": authors,
    "entry_id": sometimes_wrong(
        weighted((1, st.uuids().map(lambda u: f"urn:uuid:{u}")), (1, hostile_text()))
    ),
    "external_id": sometimes_wrong(hostile_text(3)),
    "id": wrong_types,
    "url": wrong_types,
    "created": date_values,
}


def post_documents() -> st.SearchStrategy[dict[str, Any]]:
    """A post as a CMS might send it: mostly well-typed, with hostile text, unknown fields
    now and then."""
    known = st.fixed_dictionaries(
        {"title": sometimes_wrong(readable_text()), "language": language_values},
        optional=POST_FIELDS_OPTIONAL,
    )
    unknown = st.dictionaries(hostile_text(3), wrong_types, max_size=2)
    return weighted((6, known), (1, st.tuples(known, unknown).map(lambda p: {**p[1], **p[0]})))


def partial_documents() -> st.SearchStrategy[dict[str, Any]]:
    """A PATCH body: some fields of a post."""
    fields = {"title": sometimes_wrong(readable_text()), "language": language_values}
    fields.update(POST_FIELDS_OPTIONAL)
    return st.fixed_dictionaries({}, optional=fields)


def small_documents(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A category or author body: its string fields, hostile, of wrong types, or unknown."""
    known = st.fixed_dictionaries(
        {},
        optional={name: sometimes_wrong(st.one_of(slug_text, hostile_text())) for name in fields},
    )
    unknown = st.dictionaries(hostile_text(2), wrong_types, max_size=1)
    return weighted((6, known), (1, st.tuples(known, unknown).map(lambda p: {**p[1], **p[0]})))


# --- request bodies ----------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A request body as bytes, and its Content-Type (None: no header)."""

    data: bytes
    content_type: str | None = "application/json"


def _encoded(document: Any, ascii_only: bool) -> bytes:
    # ensure_ascii writes a lone surrogate as a \\ud800 escape (valid JSON); without it the
    # surrogate goes out as the bytes ED A0 80, which are not UTF-8.
    text = json.dumps(document, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def bodies(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> Body:
    """A JSON body made from ``documents``: escaped, raw (invalid UTF-8 for surrogates),
    with a byte inserted, or not JSON at all; now and then under another Content-Type."""
    document = draw(documents)
    how = draw(st.sampled_from(["escaped", "escaped", "raw", "raw", "mutated", "nested"]))
    if how == "nested":
        data = b'{"title": ' + b"[" * draw(st.sampled_from([10, 1000, 100_000])) + b"]"
    else:
        data = _encoded(document, ascii_only=how == "escaped")
        if how == "mutated":
            at = draw(st.integers(min_value=0, max_value=len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    content_type = draw(
        st.sampled_from(
            [
                "application/json",
                "application/json",
                "application/json",
                "application/json; charset=utf-8",
                "application/json; charset=latin-1",
                "application/merge-patch+json",
                "text/plain",
                None,
            ]
        )
    )
    return Body(data, content_type)


def json_bodies(documents: st.SearchStrategy[Any]) -> st.SearchStrategy[Body]:
    """Bodies that are JSON most of the time (so that writes go through), hostile now and then."""
    plain = documents.map(lambda document: Body(_encoded(document, ascii_only=True)))
    return weighted((4, plain), (1, bodies(documents)))


# --- import files ------------------------------------------------------------------------


def _xml_text(text: str, cdata: bool) -> str:
    """``text`` as XML element content: CDATA (split at ]]>) or escaped."""
    if cdata:
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return escape(text)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    """A JSON Lines file: posts, and lines that are not posts, not JSON or not UTF-8."""
    lines = []
    for document in draw(st.lists(post_documents(), min_size=1, max_size=5)):
        lines.append(_encoded(document, ascii_only=draw(st.booleans())))
    extra = draw(
        st.lists(
            st.sampled_from(
                [
                    b"",
                    b"   ",
                    b"\xff\xfe{}",
                    b"not json",
                    b"[1, 2]",
                    b"null",
                    b'{"\\ud800": 1, "title": "x", "language": "en"}',
                    b'{"title": "x", "language": "en", "published": ' + b"9" * 5000 + b"}",
                    b"[" * 100_000 + b"]" * 100_000,
                    b'{"title": "x", "language": "en"',
                    "\ufeff".encode() + b'{"title": "bom", "language": "en"}',
                ]
            ),
            max_size=2,
        )
    )
    for line in extra:
        lines.insert(draw(st.integers(min_value=0, max_value=len(lines))), line)
    return b"\n".join(lines) + draw(st.sampled_from([b"\n", b"", b"\r\n"]))


WXR_NAMESPACES = [
    "http://wordpress.org/export/1.2/",
    "http://wordpress.org/export/1.1/",
    "http://wordpress.org/export/1.0/",
    "https://wordpress.org/export/1.2/",
]
WP_STATUSES = ["publish", "publish", "draft", "future", "private", "trash", "pending", "", "x"]


@st.composite
def wxr_item(draw: st.DrawFn) -> str:
    cdata = draw(st.booleans())
    title = _xml_text(draw(readable_text()), cdata)
    content = _xml_text(draw(html_values), cdata)
    excerpt = _xml_text(draw(html_values), cdata)
    guid = escape(draw(st.uuids().map(lambda u: f"https://old.example/?p={u}")))
    slug = escape(draw(st.one_of(slug_text, st.just(""))))
    date = draw(
        st.one_of(
            plausible_datetime.map(lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")),
            st.sampled_from(["0000-00-00 00:00:00", "", "2024-13-45 99:99:99", "garbage"]),
        )
    )
    status = draw(st.sampled_from(WP_STATUSES))
    post_type = draw(st.sampled_from(["post", "post", "post", "page", "attachment"]))
    categories = "".join(
        f"<category domain={quoteattr(domain)} nicename={quoteattr(nicename)}>"
        f"{_xml_text(label, cdata)}</category>"
        for domain, nicename, label in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["category", "post_tag", "language", "other"]),
                    st.one_of(slug_text, st.sampled_from(LANGUAGES)),
                    readable_text(),
                ),
                max_size=3,
            )
        )
    )
    creator = _xml_text(draw(st.sampled_from(["alice", "", "nobody"]) | readable_text()), cdata)
    return (
        f"<item><title>{title}</title><link>https://old.example/{slug}</link>"
        f'<guid isPermaLink="false">{guid}</guid><dc:creator>{creator}</dc:creator>'
        f"<content:encoded>{content}</content:encoded>"
        f"<excerpt:encoded>{excerpt}</excerpt:encoded>"
        f"<wp:post_date_gmt>{date}</wp:post_date_gmt><wp:post_name>{slug}</wp:post_name>"
        f"<wp:status>{status}</wp:status><wp:post_type>{post_type}</wp:post_type>"
        f"{categories}</item>"
    )


@st.composite
def wxr_files(draw: st.DrawFn) -> bytes:
    """A WordPress export (WXR 1.0 to 1.2) with hostile items."""
    namespace = draw(st.sampled_from(WXR_NAMESPACES))
    excerpt_namespace = namespace + "excerpt/"
    language = draw(st.sampled_from(["en-US", "fr-FR", "ar", "xx-unknown", ""]))
    items = "".join(draw(st.lists(wxr_item(), min_size=1, max_size=4)))
    text = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        f'<rss version="2.0" xmlns:excerpt="{excerpt_namespace}" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:wp="{namespace}">\n<channel><title>Old</title>'
        f"<link>https://old.example</link><language>{language}</language>"
        "<wp:wxr_version>1.2</wp:wxr_version>"
        "<wp:base_blog_url>https://old.example</wp:base_blog_url>"
        "<wp:author><wp:author_login>alice</wp:author_login>"
        f"<wp:author_display_name>{_xml_text(draw(readable_text()), True)}"
        "</wp:author_display_name></wp:author>"
        f"{items}</channel></rss>\n"
    )
    return text.encode("utf-8", "surrogatepass")


RFC822_DATES = [
    "Tue, 05 Mar 2024 10:00:00 +0000",
    "Wed, 31 Dec 1969 23:00:00 GMT",
    "Mon, 01 Jan 1900 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Thu, 30 Feb 2024 10:00:00 +0000",
    "2024-05-01T09:00:00Z",
    "yesterday",
    "",
]


@st.composite
def feed_entry(draw: st.DrawFn, atom: bool) -> str:
    cdata = draw(st.booleans())
    title = _xml_text(draw(readable_text()), cdata)
    content = _xml_text(draw(html_values), cdata)
    summary = _xml_text(draw(html_values), cdata)
    link = quoteattr(
        draw(
            st.sampled_from(
                [
                    "https://old.example/a-post/",
                    "https://old.example/%E2%80%AE/",
                    "javascript:alert(1)",
                    "/relative/",
                    "",
                ]
            )
        )
    )
    entry_id = escape(draw(st.uuids().map(lambda u: f"tag:old.example,2024:{u}")))
    date = escape(
        draw(
            st.one_of(
                plausible_datetime.map(
                    lambda d: d.isoformat() if atom else d.strftime("%a, %d %b %Y %H:%M:%S %z")
                ),
                st.sampled_from(RFC822_DATES),
            )
        )
    )
    language = escape(draw(st.sampled_from([*LANGUAGES, "xx", ""])))
    labels = draw(st.lists(readable_text(), max_size=3))
    if atom:
        kind = draw(st.sampled_from(["html", "text", "xhtml"]))
        body = content
        if kind == "xhtml":
            xhtml = escape(draw(readable_text()))
            body = f'<div xmlns="http://www.w3.org/1999/xhtml">{xhtml}</div>'
        categories = "".join(f"<category term={quoteattr(label)}/>" for label in labels)
        return (
            f'<entry xml:lang="{language}"><title type="html">{title}</title>'
            f"<link href={link}/><id>{entry_id}</id><updated>{date}</updated>"
            f'<published>{date}</published><summary type="html">{summary}</summary>'
            f'<content type="{kind}">{body}</content>{categories}'
            f"<author><name>{title}</name></author></entry>"
        )
    categories = "".join(f"<category>{_xml_text(label, cdata)}</category>" for label in labels)
    return (
        f"<item><title>{title}</title><link>{escape(link[1:-1])}</link>"
        f'<guid isPermaLink="false">{entry_id}</guid><pubDate>{date}</pubDate>'
        f"<dc:language>{language}</dc:language><dc:creator>{title}</dc:creator>"
        f"<description>{summary}</description><content:encoded>{content}</content:encoded>"
        f"{categories}</item>"
    )


ENCODINGS = ["UTF-8", "UTF-8", "UTF-8", "utf-16", "iso-8859-1", "x-no-such-encoding", None]


@st.composite
def feed_files(draw: st.DrawFn) -> bytes:
    """An RSS 2.0 or Atom 1.0 file with hostile entries, in various declared encodings."""
    atom = draw(st.booleans())
    entries = "".join(draw(st.lists(feed_entry(atom), min_size=1, max_size=4)))
    language = escape(draw(st.sampled_from(["en-us", "fr", "ar", "xx", ""])))
    if atom:
        document = (
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{language}">'
            "<title>Old</title><id>tag:old.example,2024:feed</id>"
            f"<updated>2024-03-05T10:00:00Z</updated>{entries}</feed>"
        )
    else:
        document = (
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Old</title>'
            f"<link>https://old.example/</link><description>d</description>"
            f"<language>{language}</language>{entries}</channel></rss>"
        )
    encoding = draw(st.sampled_from(ENCODINGS))
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    text = declaration + document
    if encoding in ("utf-16", "iso-8859-1"):
        return text.encode(encoding, "replace")
    return text.encode("utf-8", "surrogatepass")


@st.composite
def cut_short(draw: st.DrawFn, files: st.SearchStrategy[bytes]) -> bytes:
    """A file of ``files`` cut after its first item and before its closing root tag
    (a truncated download)."""
    data = draw(files)
    end = max(data.rfind(b"</rss>"), data.rfind(b"</feed>"))
    starts = [data.find(tag) for tag in (b"<item", b"<entry") if tag in data]
    start = min(starts) if starts else 1
    if end <= start:  # an encoding that hides the tags from a byte search: cut in the middle
        start, end = 1, len(data)
    return data[: draw(st.integers(min_value=start, max_value=end - 1))]


# --- public requests ---------------------------------------------------------------------

FEED_PATHS = [
    "/feeds/all.atom",
    "/feeds/all.rss",
    "/feeds/category/tech.atom",
    "/feeds/category/tech.rss",
    "/en/feeds/all.atom",
    "/fr/feeds/category/tech.rss",
    "/ar/feeds/all.rss",
    "/feeds/category/no-such-category.atom",
    "/xx/feeds/all.atom",
    "/feeds/all.json",
    "/feeds/all.",
    "/feeds/all.atom/",
    "//feeds/all.atom",
    "/feeds/category/.atom",
    "/feeds.json",
    "/",
    "/healthz",
    "/readyz",
    "/feed/",
    "/feed/atom/",
    "/category/tech/feed/",
    "/fr/feed/",
    "/api",
    "/api/posts",
    "/static/x",
    "/%2e%2e/%2e%2e/etc/passwd",
]
CURSORS = [
    "²-1",
    "¹²³-1",
    "١٢٣-1",
    "１２３-1",
    "999999999999999999-1",
    "9999999999999999999-1",
    "1-9223372036854775808",
    "1-9223372036854775807",
    "1-99999999999999999999999",
    "-1-1",
    "1--1",
    "0-0",
    "1-",
    "-",
    "",
    "1",
    "1_000-1",
    " 1-1",
    "1-1 ",
    "+1-1",
    "0x10-1",
    "1e5-1",
    "1-1-1",
    "1577836800000000-1",
    "253402300799999999-1",
    "253402300800000000-1",
]
cursors = st.one_of(
    st.sampled_from(CURSORS),
    st.tuples(st.integers(min_value=-(2**80), max_value=2**80), st.integers(-(2**70), 2**70)).map(
        lambda pair: f"{pair[0]}-{pair[1]}"
    ),
    hostile_text(3),
)
etags = st.one_of(
    st.sampled_from(['"abc"', "*", 'W/"abc"', '"', "", ",", '"a", "b"', 'W/""', "\x00"]),
    hostile_text(2),
)
http_dates = st.one_of(
    st.sampled_from(
        [
            "Sat, 01 Jan 2000 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 +1400",
            "yesterday",
            "",
            "-1",
        ]
    ),
    hostile_text(2),
)
encodings = st.one_of(
    st.sampled_from(
        [
            "gzip",
            "gzip;q=0",
            "identity;q=0",
            "*",
            "*;q=0",
            "br",
            "gzip, gzip, gzip",
            "deflate, gzip;q=1.0, *;q=0.5",
            "gzip;q=nan",
            "gzip;q=-1",
            "GZIP",
            ";;;,,,",
            "x" * 5000,
        ]
    ),
    hostile_text(2),
)
methods = st.sampled_from(
    [
        "GET",
        "GET",
        "GET",
        "GET",
        "HEAD",
        "HEAD",
        "OPTIONS",
        "POST",
        "PUT",
        "DELETE",
        "PATCH",
        "TRACE",
    ]
)


def header_value(text: str) -> str:
    """A header value as WSGI carries it: latin-1 text (other characters as their UTF-8
    bytes), with no line breaks."""
    raw = text.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")
    return raw.decode("latin-1")
