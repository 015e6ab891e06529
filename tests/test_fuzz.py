"""Property-based fuzzing of every input feeds takes: the admin API, the importers and the
public routes, with hostile Unicode, wrong types, unknown fields, bad dates, many terms,
cut-short files and garbage headers. The properties are in tests/fuzz_checks.py.

The budget is fixed for CI: each test runs a set number of examples, derandomized (the same
examples on every run), with no deadline; the module takes about two minutes on two cores.
For a longer, randomized run, set the number of examples per test:

    FEEDS_TEST_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/test_fuzz.py -x

Hypothesis prints the smallest failing example it found (and a @reproduce_failure line).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule
from werkzeug.test import TestResponse

from feeds import create_app
from feeds.cli import main
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app_state import app_state
from tests.conftest import REPO, database_url, make_settings
from tests.fuzz_checks import (
    FORMATS,
    assert_answer_shape,
    assert_feed_answer,
    assert_feed_renders,
    assert_index_pages_render,
    assert_post_in_its_feeds,
    assert_store_unchanged,
    describe,
    feed_entries,
    feed_pages,
    script_problems,
    store_snapshot,
)
from tests.fuzz_strategies import (
    CURSORS,
    FEED_PATHS,
    LANGUAGES,
    Body,
    bodies,
    cursors,
    cut_short,
    encodings,
    etags,
    feed_files,
    header_value,
    hostile_text,
    http_dates,
    json_bodies,
    jsonl_files,
    methods,
    partial_documents,
    post_documents,
    slug_text,
    small_documents,
    wrong_types,
    wxr_files,
)

pytestmark = pytest.mark.fuzz

TOKEN = "fuzz-admin-token"
EXAMPLES_VARIABLE = "FEEDS_TEST_FUZZ_EXAMPLES"
_Test = TypeVar("_Test", bound=Callable[..., Any])


def budget_settings(examples: int, **more: Any) -> settings:
    """Hypothesis settings: ``examples`` derandomized examples in CI, or the number in
    $FEEDS_TEST_FUZZ_EXAMPLES, randomized, for a longer run."""
    override = os.environ.get(EXAMPLES_VARIABLE)
    return settings(
        max_examples=int(override) if override else examples,
        derandomize=not override,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
        **more,
    )


def budget(examples: int) -> Callable[[_Test], _Test]:
    """The settings of budget_settings, as a decorator."""
    return budget_settings(examples)


# --- the site under fuzzing --------------------------------------------------------------

# Two entries a feed, so that a handful of posts makes older pages (and their cursors).
ITEMS_PER_FEED = 2
BASELINE = [
    {
        "title": "Baseline one",
        "language": "en",
        "published": "2020-01-01T00:00:00Z",
        "categories": ["tech"],
        "authors": ["Ada"],
        "content_html": "<p>One.</p>",
    },
    {
        "title": "Baseline deux",
        "language": "fr",
        "published": "2010-06-01T12:00:00+02:00",
        "categories": ["tech", "news"],
        "summary": "Deux.",
    },
    {
        "title": "Baseline three",
        "language": "en",
        "published": "1990-03-01T00:00:00Z",
        "categories": ["news"],
    },
]


class Site:
    """One app and store that every example of the module writes to and reads from."""

    def __init__(
        self, client: FlaskClient, store: Store, settings: Settings, directory: Path
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.directory = directory

    def __repr__(self) -> str:  # what hypothesis prints of it in a failing example
        return f"Site({self.settings.database_url})"

    @property
    def cli_env(self) -> dict[str, str]:
        return {
            "FEEDS_CONFIG": str(REPO / "config.toml"),
            "FEEDS_DATABASE_URL": self.settings.database_url,
        }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("fuzz")
    settings_ = make_settings(
        database_url(directory), admin_token=TOKEN, items_per_feed=ITEMS_PER_FEED
    )
    store = Store(settings_.database_url)
    store.create_schema()
    app = create_app(settings_)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    for document in BASELINE:
        response = client.post("/api/posts", json=document)
        assert response.status_code == 201, response.data
    yield Site(client, store, settings_, directory)
    app_state(app).store.dispose()
    store.dispose()


def raw_quote(text: str) -> str:
    """``text`` percent-encoded as its UTF-8 bytes (lone surrogates too, as they would be
    sent by a client that does not check)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def send(
    site: Site,
    method: str,
    path: str,
    body: Body | None = None,
    **environ: str,
) -> tuple[TestResponse, str]:
    """One request to the app (``environ`` overrides WSGI keys, e.g. a raw PATH_INFO);
    the answer, and the request described for messages."""
    headers = {"Content-Type": body.content_type} if body and body.content_type else {}
    response = site.client.open(
        path,
        method=method,
        data=body.data if body else None,
        headers=headers,
        environ_overrides=environ or None,
    )
    request = describe(method, environ.get("PATH_INFO", path), body.data if body else None)
    assert_answer_shape(response, request)
    field = ""
    if response.status_code >= 400 and method != "HEAD":
        field = str(json.loads(response.data).get("field", ""))[:20]
    event(f"{method} answered {response.status_code} {field}".rstrip())
    return response, request


def write(
    site: Site, method: str, path: str, body: Body | None = None, **environ: str
) -> TestResponse:
    """A write request: its answer's shape is checked, and a refusal must change nothing."""
    before = store_snapshot(site.store)
    response, request = send(site, method, path, body, **environ)
    if response.status_code >= 300:
        assert_store_unchanged(before, site.store, request)
    return response


def plain_post(site: Site, **fields: Any) -> dict[str, Any]:
    """A fresh, ordinary post through the API: its JSON."""
    document = {
        "title": f"Plain post {uuid.uuid4().hex[:12]}",
        "language": "en",
        "published": "2015-05-05T05:05:05Z",
        "categories": ["tech"],
        "authors": ["Ada"],
        **fields,
    }
    response = site.client.post("/api/posts", json=document)
    assert response.status_code == 201, response.data
    return response.json


@contextmanager
def removed_after(site: Site, post_id: int) -> Iterator[None]:
    """Delete the post when done (so that the store stays small); its feeds must render
    after the deletion too (Atom carries a tombstone)."""
    try:
        yield
    finally:
        response, request = send(site, "DELETE", f"/api/posts/{post_id}")
        assert response.status_code in (204, 404), f"{request}: {response.status_code}"
    assert_feed_renders(site.client, "/feeds/all")


def check_accepted_post(site: Site, response: TestResponse) -> dict[str, Any]:
    """A post write the API accepted: the post is in its feeds, which render and parse."""
    post = response.json
    assert isinstance(post, dict) and "entry_id" in post, response.data
    assert_post_in_its_feeds(site.client, post)
    assert_index_pages_render(site.client)
    return post


def assert_repeat_is_unchanged(site: Site, path: str, body: Body, request: str) -> None:
    """The same PUT again is acknowledged as changing nothing."""
    again = write(site, "PUT", path, body)
    assert again.status_code == 200, f"{request} sent twice: {again.status_code} {again.data!r}"
    outcome = again.headers.get("Feeds-Outcome")
    assert outcome == "unchanged", f"{request} sent twice: outcome {outcome!r}"


# --- admin API: posts --------------------------------------------------------------------


@budget(360)
@given(body=json_bodies(post_documents()))
def test_api_create_post_renders_in_every_feed_or_is_refused_whole(site: Site, body: Body) -> None:
    response = write(site, "POST", "/api/posts", body)
    if response.status_code >= 400:
        return
    assert response.status_code == 201, response.data
    with removed_after(site, response.json["id"]):
        check_accepted_post(site, response)


@budget(260)
@given(
    method=st.sampled_from(["PUT", "PATCH"]),
    body=st.one_of(json_bodies(post_documents()), json_bodies(partial_documents())),
    target=st.sampled_from(["own", "own", "own", "0", "99999999", "9" * 30]),
)
def test_api_change_post_renders_or_is_refused_whole(
    site: Site, method: str, body: Body, target: str
) -> None:
    post = plain_post(site)
    with removed_after(site, post["id"]):
        path = f"/api/posts/{post['id'] if target == 'own' else target}"
        response = write(site, method, path, body)
        if response.status_code >= 400:
            return
        assert response.status_code == 200, response.data
        check_accepted_post(site, response)
        assert_feed_renders(site.client, "/feeds/category/tech")
        if method == "PUT":
            assert_repeat_is_unchanged(site, path, body, describe(method, path, body.data))


EXTERNAL_IDS = [
    *["cms-42", "a%00b", "a/b", "a b", " a ", "a%2Fb", "%", "é", "a\u202eb", "a\x00b"],
    *["/0", "a//b", "a/", "./a", "../a"],
]


@budget(180)
@given(
    external_id=st.one_of(st.sampled_from(EXTERNAL_IDS), hostile_text(3)),
    raw_path=st.booleans(),
    body=json_bodies(post_documents()),
)
def test_api_upsert_by_external_id_renders_and_is_idempotent(
    site: Site, external_id: str, raw_path: bool, body: Body
) -> None:
    path = "/api/posts/external/" + raw_quote(external_id)
    environ = {}
    if raw_path:  # the bytes as they came, not percent-encoded
        raw = external_id.encode("utf-8", "surrogatepass").decode("latin-1")
        environ["PATH_INFO"] = "/api/posts/external/" + raw
    response = write(site, "PUT", path, body, **environ)
    if response.status_code >= 400:
        return
    assert response.status_code in (200, 201), response.data
    with removed_after(site, response.json["id"]):
        check_accepted_post(site, response)
        request = describe("PUT", environ.get("PATH_INFO", path), body.data)
        again = write(site, "PUT", path, body, **environ)
        assert again.status_code == 200, f"{request} twice: {again.status_code} {again.data!r}"
        assert again.headers.get("Feeds-Outcome") == "unchanged", f"{request} twice"


LIST_PARAMETERS = ["status", "language", "category", "tag", "author", "external_id", "limit"]
query_values = st.one_of(
    st.sampled_from(["published", "draft", "en", "tech", "Ada", "1", "200", "201", "0", "-1"]),
    st.sampled_from(["a\x00b", "\x00", "\ud800", "%", "tech\n"]),
    st.sampled_from(["²", "１", "9" * 30, "MTA", "LTE", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"]),
    hostile_text(2),
)


@budget(180)
@given(
    action=st.sampled_from(["list", "get", "delete", "delete"]),
    target=st.sampled_from(["own", "own", "0", "99999999", "9" * 30, "-1", "x", "1.0"]),
    query=st.lists(
        st.tuples(st.sampled_from([*LIST_PARAMETERS, "cursor", "cursor", "nope"]), query_values),
        max_size=3,
    ),
)
def test_api_read_and_delete_answer_json_and_deletion_empties_the_feeds(
    site: Site, action: str, target: str, query: list[tuple[str, str]]
) -> None:
    post = plain_post(site)
    with removed_after(site, post["id"]):
        post_path = f"/api/posts/{post['id'] if target == 'own' else target}"
        if action == "list":
            pairs = "&".join(f"{quote(k)}={raw_quote(v)}" for k, v in query)
            response, request = send(site, "GET", f"/api/posts?{pairs}")
            if response.status_code == 200:
                listed = response.json
                assert isinstance(listed["posts"], list), request
                cursor = listed["next_cursor"]
                if cursor is not None:  # the API's own cursor is always accepted
                    following, _ = send(site, "GET", f"/api/posts?cursor={quote(cursor)}")
                    assert following.status_code == 200, f"{request}: its next cursor refused"
        elif action == "get":
            response, request = send(site, "GET", post_path)
            if target == "own":
                assert response.status_code == 200 and response.json == post, request
        else:
            response = write(site, "DELETE", post_path)
            if target == "own":
                assert response.status_code == 204, response.data
                gone, _ = send(site, "GET", post_path)
                assert gone.status_code == 404
                for path in (f"/feeds/all.{fmt}" for fmt in FORMATS):
                    ids = [e.id for page in feed_pages(site.client, path) for e in page]
                    assert post["entry_id"] not in ids, f"deleted post still in {path}"


@budget(30)
@given(
    field=st.sampled_from(["title", "summary", "content_html", "categories", "authors"]),
    size=st.sampled_from([200_000, 999_000, 1_000_001, 1_048_000]),
    unit=st.sampled_from(["x", "é", "&#1;", "<p>&#xFFFE;</p>", "\u202e", "<b>", "\ud800"]),
)
def test_api_megabyte_fields_are_stored_and_render_or_are_refused(
    site: Site, field: str, size: int, unit: str
) -> None:
    text = unit * max(1, size // len(unit.encode("utf-8", "surrogatepass")))
    value: Any = [text] if field in ("categories", "authors") else text
    document = {"title": "Big", "language": "en", "published": "2021-01-01T00:00:00Z"}
    text_body = json.dumps({**document, field: value}, ensure_ascii=False)
    body = Body(text_body.encode("utf-8", "surrogatepass"))
    response = write(site, "POST", "/api/posts", body)
    if response.status_code < 400:
        with removed_after(site, response.json["id"]):
            check_accepted_post(site, response)


# --- admin API: categories and authors ---------------------------------------------------


@budget(260)
@given(
    action=st.sampled_from(["create", "create", "rename", "rename", "delete", "get", "list"]),
    slug=slug_text,
    move_to=st.one_of(st.none(), slug_text),
    body=json_bodies(small_documents(("slug", "name"))),
)
def test_api_categories_answer_json_and_their_feeds_render(
    site: Site, action: str, slug: str, move_to: str | None, body: Body
) -> None:
    path = "/api/categories/" + raw_quote(slug)
    if action == "create":
        response = write(site, "POST", "/api/categories", body)
    elif action == "rename":
        response = write(site, "PATCH", path, body)
    elif action == "delete":
        query = "" if move_to is None else "?move_to=" + raw_quote(move_to)
        response = write(site, "DELETE", path + query)
    elif action == "get":
        response, _ = send(site, "GET", path)
    else:
        response, _ = send(site, "GET", "/api/categories")
    if response.status_code >= 400 or action in ("get", "list", "delete"):
        return
    category = response.json
    assert_feed_renders(site.client, "/feeds/category/" + quote(category["slug"], safe=""))
    assert_feed_renders(site.client, "/feeds/all")
    assert_index_pages_render(site.client)


@budget(180)
@given(
    action=st.sampled_from(["create", "change", "change", "get", "list"]),
    target=st.sampled_from(["ada", "ada", "0", "9" * 30, "x"]),
    body=json_bodies(small_documents(("name", "email", "uri"))),
)
def test_api_authors_answer_json_and_feeds_carrying_them_render(
    site: Site, action: str, target: str, body: Body
) -> None:
    post = plain_post(site, authors=[{"name": "Fuzzed author"}])
    with removed_after(site, post["id"]):
        authors = site.client.get("/api/authors").json["authors"]
        (author,) = [a for a in authors if a["name"] == "Fuzzed author"]
        path = f"/api/authors/{author['id'] if target == 'ada' else target}"
        if action == "create":
            response = write(site, "POST", "/api/authors", body)
        elif action == "change":
            response = write(site, "PATCH", path, body)
        elif action == "get":
            response, _ = send(site, "GET", path)
        else:
            response, _ = send(site, "GET", "/api/authors")
        if response.status_code < 400 and action in ("create", "change"):
            assert_feed_renders(site.client, "/feeds/all")
            assert_feed_renders(site.client, "/en/feeds/category/tech")
        # Keep the name free for the next example.
        site.client.patch(f"/api/authors/{author['id']}", json={"name": f"Gone {author['id']}"})


# --- admin API: any request --------------------------------------------------------------

API_PATHS = [
    "/api",
    "/api/",
    "/api/posts",
    "/api/posts/1",
    "/api/posts/external/x",
    "/api/posts/external/",
    "/api/categories",
    "/api/categories/tech",
    "/api/authors",
    "/api/authors/1",
    "/api/nothing",
    "/api/posts/1/extra",
]
AUTHORIZATIONS = [
    f"Bearer {TOKEN}",
    f"Bearer {TOKEN}",
    f"Bearer {TOKEN}",
    f"bearer  {TOKEN} ",
    "Bearer",
    "Bearer wrong",
    "Basic dXNlcjpwYXNz",
    f"Bearer {TOKEN}\u00e9",
    "",
]


@budget(500)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]),
    path=st.one_of(st.sampled_from(API_PATHS), hostile_text(3).map(lambda t: "/api/" + t)),
    body=st.one_of(st.none(), bodies(st.one_of(post_documents(), wrong_types))),
    authorization=st.one_of(st.sampled_from(AUTHORIZATIONS), hostile_text(2)),
    client_number=st.integers(min_value=1, max_value=254),
)
def test_any_api_request_gets_a_json_answer_and_a_refusal_changes_nothing(
    site: Site, method: str, path: str, body: Body | None, authorization: str, client_number: int
) -> None:
    raw_path = path.encode("utf-8", "surrogatepass").decode("latin-1")
    environ = {
        "PATH_INFO": raw_path,
        "HTTP_AUTHORIZATION": header_value(authorization),
        # Failed authentications are rate-limited per client: many clients, none of them
        # the other tests' client.
        "REMOTE_ADDR": f"192.0.2.{client_number}",
    }
    response = write(site, method, "/api/", body, **environ)
    created = response.json if response.status_code == 201 and response.is_json else None
    if isinstance(created, dict) and "entry_id" in created:
        with removed_after(site, created["id"]):
            check_accepted_post(site, response)


# --- importers ---------------------------------------------------------------------------

IMPORT_OPTIONS = st.sampled_from([[], [], [], ["--strict"], ["--dry-run"], ["--batch-size", "1"]])
# WordPress exports and feeds may be imported into one language.
LANGUAGE_OPTIONS = IMPORT_OPTIONS | st.sampled_from([["--language", "fr"], ["--language", "ar"]])


def run_import(site: Site, kind: str, data: bytes, options: list[str]) -> Result:
    """``feeds import <kind> FILE`` on ``data``: it ends with exit 0, or exit 1 and an
    ``Error:`` line, never a traceback; a dry run or a failed strict import changes nothing;
    every post it wrote is in its feeds, which render. The posts it wrote are then deleted."""
    source = site.directory / f"import.{kind}"
    source.write_bytes(data)
    before = store_snapshot(site.store)
    listed_before = {p["id"]: p for p in site.client.get("/api/posts?limit=200").json["posts"]}
    result = CliRunner().invoke(
        main, ["import", kind, str(source), *options], env=site.cli_env, prog_name="feeds"
    )
    command = f"feeds import {kind} {' '.join(options)} on {data[:300]!r}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"{command} crashed:\n{trace}")
    assert result.exit_code in (0, 1), f"{command}: exit {result.exit_code}\n{result.output}"
    if result.exit_code == 1:
        assert "Error:" in result.output, f"{command}: exit 1 without an Error line"
        assert "Traceback" not in result.output, f"{command}:\n{result.output}"
    if "--dry-run" in options or ("--strict" in options and result.exit_code == 1):
        assert_store_unchanged(before, site.store, command)
    listed = site.client.get("/api/posts?limit=200").json["posts"]
    written = [p for p in listed if listed_before.get(p["id"]) != p]
    try:
        for post in written:
            try:
                assert_post_in_its_feeds(site.client, post)
            except AssertionError as error:
                raise AssertionError(f"{command}: {error}") from None
        if written:
            assert_index_pages_render(site.client)
    finally:
        for post in written:
            deleted, request = send(site, "DELETE", f"/api/posts/{post['id']}")
            assert deleted.status_code == 204, f"{request}: {deleted.status_code}"
    return result


@budget(180)
@given(data=jsonl_files(), options=IMPORT_OPTIONS)
def test_import_jsonl_never_crashes_and_what_it_imports_renders(
    site: Site, data: bytes, options: list[str]
) -> None:
    run_import(site, "jsonl", data, options)


@budget(140)
@given(data=wxr_files(), options=LANGUAGE_OPTIONS)
def test_import_wxr_never_crashes_and_what_it_imports_renders(
    site: Site, data: bytes, options: list[str]
) -> None:
    run_import(site, "wxr", data, options)


@budget(140)
@given(data=feed_files(), options=LANGUAGE_OPTIONS)
def test_import_feed_never_crashes_and_what_it_imports_renders(
    site: Site, data: bytes, options: list[str]
) -> None:
    run_import(site, "feed", data, options)


@budget(60)
@given(
    kind_and_data=st.one_of(
        st.tuples(st.just("wxr"), cut_short(wxr_files())),
        st.tuples(st.just("feed"), cut_short(feed_files())),
    )
)
def test_import_of_a_file_cut_short_is_never_reported_a_success(
    site: Site, kind_and_data: tuple[str, bytes]
) -> None:
    kind, data = kind_and_data
    result = run_import(site, kind, data, [])
    assert result.exit_code == 1, (
        f"feeds import {kind} of a file cut short ({len(data)} bytes, ends {data[-60:]!r}) "
        f"exited 0: {result.output}"
    )


# --- public routes -----------------------------------------------------------------------

feed_path = st.one_of(
    st.sampled_from(FEED_PATHS),
    st.tuples(
        st.sampled_from(["", "/en", "/fr", "/ar", "/zh-hans", "/xx", "/EN"]),
        st.one_of(st.just("all"), slug_text.map(lambda s: "category/" + s)),
        st.sampled_from(["atom", "rss", "atom", "rss", "json", "xml", "ATOM", "atom.gz"]),
    ).map(lambda parts: f"{parts[0]}/feeds/{parts[1]}.{parts[2]}"),
    hostile_text(3).map(lambda text: "/" + text),
)


@budget(700)
@given(
    method=methods,
    path=feed_path,
    cursor=st.one_of(st.none(), cursors),
    extra_query=st.sampled_from(["", "", "&before=1-1", "&x=1", "&before", "&&&", "&%zz=%zz"]),
    if_none_match=st.one_of(st.none(), st.just("current"), etags),
    if_modified_since=st.one_of(st.none(), http_dates),
    accept_encoding=st.one_of(st.none(), encodings),
)
def test_public_routes_answer_without_5xx_and_feeds_parse(
    site: Site,
    method: str,
    path: str,
    cursor: str | None,
    extra_query: str,
    if_none_match: str | None,
    if_modified_since: str | None,
    accept_encoding: str | None,
) -> None:
    query = "" if cursor is None else "before=" + raw_quote(cursor)
    query = (query + extra_query).lstrip("&")
    environ = {
        "PATH_INFO": path.encode("utf-8", "surrogatepass").decode("latin-1"),
        "QUERY_STRING": query,
    }
    site.client.environ_base.pop("HTTP_AUTHORIZATION", None)  # a reader has no token
    if if_none_match == "current":  # the feed's own validator: the conditional GET of a poller
        current = site.client.open("/", environ_overrides=environ)
        if_none_match = current.headers.get("ETag", '"none"')
    for header, value in (
        ("HTTP_IF_NONE_MATCH", if_none_match),
        ("HTTP_IF_MODIFIED_SINCE", if_modified_since),
        ("HTTP_ACCEPT_ENCODING", accept_encoding),
    ):
        if value is not None:
            environ[header] = header_value(value)
    try:
        response, request = send(site, method, "/", **environ)
    finally:
        site.client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    status = response.status_code
    if status == 304 or method == "HEAD":
        assert response.data == b"", f"{request}: {status} with a body"
        return
    if status != 200 or method != "GET":
        return
    fmt = response.mimetype.split("/")[-1].removesuffix("+xml")
    if fmt in FORMATS:
        body = assert_feed_answer(response, request, fmt)
        entries, _, _ = feed_entries(body, fmt)
        for entry in entries:
            for element, html in entry.html:
                assert not script_problems(html), f"{request}: {entry.id} {element}: {html!r}"


@budget(60)
@given(cursor=st.sampled_from(CURSORS), language=st.sampled_from(["", *LANGUAGES[:3]]))
def test_every_cursor_is_a_page_or_a_400(site: Site, cursor: str, language: str) -> None:
    prefix = f"/{language}" if language else ""
    for fmt in FORMATS:
        path = f"{prefix}/feeds/all.{fmt}?before={quote(cursor)}"
        response, request = send(site, "GET", path)
        assert response.status_code in (200, 400), f"{request}: {response.status_code}"
        if response.status_code == 200:
            assert_feed_answer(response, request, fmt)


# --- feeds against a model of the store, over sequences of writes and reads --------------

MODEL_LANGUAGES = ("en", "ar")
MODEL_CATEGORIES = ("tech", "news")
MODEL_DATES = ("2001-01-01T00:00:00Z", "2010-06-01T12:00:00+02:00", "2020-02-29T23:59:59Z")


class FeedsMatchTheStore(RuleBasedStateMachine):
    """Posts and categories created, moved, renamed and deleted through the API, feeds read
    at any moment: every feed (each page, both formats) always holds exactly the published
    posts of its scope. A feed that still shows a deleted post, or misses a new one, fails:
    whatever the cache holds must never outlive what it was made from."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="feeds-model-"))
        # Pages of five: a few pages, few enough requests to shrink a failure quickly.
        settings_ = make_settings(database_url(self.directory), admin_token=TOKEN, items_per_feed=5)
        self.store = Store(settings_.database_url)
        self.store.create_schema()
        self.app = create_app(settings_)
        self.client = self.app.test_client()
        self.client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
        self.posts: dict[int, tuple[str, str, frozenset[str]]] = {}  # id → entry, lang, cats
        self.categories: set[str] = set()

    def teardown(self) -> None:
        app_state(self.app).store.dispose()
        self.store.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)

    def call(self, method: str, path: str, body: Any = None) -> TestResponse:
        response = self.client.open(path, method=method, json=body)
        assert_answer_shape(response, describe(method, path))
        return response

    @rule(
        language=st.sampled_from(MODEL_LANGUAGES),
        categories=st.frozensets(st.sampled_from(MODEL_CATEGORIES), max_size=2),
        published=st.sampled_from(MODEL_DATES),
    )
    def create_post(self, language: str, categories: frozenset[str], published: str) -> None:
        document = {
            "title": f"Model post {len(self.posts)}-{uuid.uuid4().hex[:8]}",
            "language": language,
            "categories": sorted(categories),
            "published": published,
        }
        response = self.call("POST", "/api/posts", document)
        assert response.status_code == 201, response.data
        self.posts[response.json["id"]] = (response.json["entry_id"], language, categories)
        self.categories |= categories

    @rule(data=st.data())
    def delete_post(self, data: st.DataObject) -> None:
        if not self.posts:
            return
        post_id = data.draw(st.sampled_from(sorted(self.posts)))
        assert self.call("DELETE", f"/api/posts/{post_id}").status_code == 204
        del self.posts[post_id]

    @rule(data=st.data())
    def change_post(self, data: st.DataObject) -> None:
        if not self.posts:
            return
        post_id = data.draw(st.sampled_from(sorted(self.posts)))
        language = data.draw(st.sampled_from(MODEL_LANGUAGES))
        categories = data.draw(st.frozensets(st.sampled_from(MODEL_CATEGORIES), max_size=2))
        body = {"language": language, "categories": sorted(categories)}
        response = self.call("PATCH", f"/api/posts/{post_id}", body)
        assert response.status_code == 200, response.data
        self.posts[post_id] = (self.posts[post_id][0], language, categories)
        self.categories |= categories

    @rule(slug=st.sampled_from(MODEL_CATEGORIES), move=st.booleans())
    def delete_category(self, slug: str, move: bool) -> None:
        # Its posts move to the other category; without a move, it must be unused.
        move_to = next(c for c in MODEL_CATEGORIES if c != slug) if move else None
        query = f"?move_to={move_to}" if move_to else ""
        response = self.call("DELETE", f"/api/categories/{slug}{query}")
        in_use = any(slug in categories for _, _, categories in self.posts.values())
        if slug not in self.categories or (move_to is not None and move_to not in self.categories):
            assert response.status_code == 404, response.data
        elif move_to == slug or (in_use and move_to is None):
            assert response.status_code in (409, 422), response.data
        else:
            assert response.status_code == 204, response.data
            self.categories.discard(slug)
            for post_id, (entry, language, categories) in self.posts.items():
                if slug in categories:
                    moved = (categories - {slug}) | {move_to} if move_to else categories - {slug}
                    self.posts[post_id] = (entry, language, frozenset(moved))

    @rule(slug=st.sampled_from(MODEL_CATEGORIES), new_slug=st.sampled_from(MODEL_CATEGORIES))
    def rename_category(self, slug: str, new_slug: str) -> None:
        response = self.call("PATCH", f"/api/categories/{slug}", {"slug": new_slug})
        if slug not in self.categories:
            assert response.status_code == 404, response.data
        elif new_slug != slug and new_slug in self.categories:
            assert response.status_code == 409, response.data
        else:
            assert response.status_code == 200, response.data
            self.categories = (self.categories - {slug}) | {new_slug}
            for post_id, (entry, language, categories) in self.posts.items():
                if slug in categories:
                    renamed = (categories - {slug}) | {new_slug}
                    self.posts[post_id] = (entry, language, frozenset(renamed))

    @rule()
    def read_the_feeds(self) -> None:
        """Every feed (site, language, category, category × language; each page): exactly
        the posts of its scope, and a deleted category's feeds are gone."""
        for language in (None, *MODEL_LANGUAGES):
            prefix = f"/{language}" if language else ""
            for category in (None, *sorted(self.categories)):
                name = f"category/{category}" if category else "all"
                expected = {
                    entry
                    for entry, post_language, categories in self.posts.values()
                    if language in (None, post_language) and category in (None, *categories)
                }
                # Atom only (RSS is the same content through the same cache): a failure
                # shrinks twice as fast.
                path = f"{prefix}/feeds/{name}.atom"
                pages = feed_pages(self.client, path, feedparser_too=False)
                shown = {e.id for page in pages for e in page}
                assert shown == expected, (
                    f"GET {path}: missing {sorted(expected - shown)}, "
                    f"shown but not in the store's scope {sorted(shown - expected)}"
                )
            for category in sorted(set(MODEL_CATEGORIES) - self.categories):
                gone = self.client.get(f"{prefix}/feeds/category/{category}.atom")
                assert gone.status_code == 404, f"{category} deleted: {gone.status_code}"


FeedsMatchTheStore.TestCase.settings = budget_settings(120, stateful_step_count=20)
test_feeds_match_the_store_over_any_sequence_of_writes = FeedsMatchTheStore.TestCase


def test_a_category_deleted_then_made_again_shows_its_new_posts_not_its_old_feed(
    site: Site,
) -> None:
    """The shortest sequence the model above found: the cache must not hand the new
    category the feed it had cached for the old one of the same slug."""
    first = plain_post(site, language="en", categories=["again", "tech"])
    assert site.client.get("/feeds/category/again.atom").status_code == 200  # now cached
    deleted = site.client.delete("/api/categories/again?move_to=tech")
    assert deleted.status_code == 204, deleted.data
    second = plain_post(site, language="en", categories=["again"])
    try:
        shown = {
            e.id for page in feed_pages(site.client, "/feeds/category/again.atom") for e in page
        }
        assert shown == {second["entry_id"]}, (
            f"/feeds/category/again.atom shows {shown}: the post now in it is "
            f"{second['entry_id']}; {first['entry_id']} moved to tech with the old category"
        )
    finally:
        for post in (first, second):
            site.client.delete(f"/api/posts/{post['id']}")
        site.client.delete("/api/categories/again")
