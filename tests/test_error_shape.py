"""Errors are answered in one place, in one JSON shape, on every route (in the manner of
Datasette's tests/test_error_shape.py), and nothing feeds answers is ever an HTML page."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError
from werkzeug.test import TestResponse

from feeds.serving.spec import BadPageCursor, UnknownCategory
from feeds.settings import Settings
from feeds.store import Store, StoreUnavailable, queries
from feeds.store.models import WORDPRESS_IMPORTED
from feeds.store.validation import Conflict, InvalidInput
from feeds.store.writes import set_store_fact
from feeds.web.app_state import app_state
from tests.conftest import ADMIN_TOKEN, REPO
from tests.live import free_port, request, wait_for_port

CORE_ERRORS: list[BaseException] = [
    BadPageCursor("before", "'x' is not a page cursor"),
    UnknownCategory("unknown category 'nope'"),
    InvalidInput("title", "must not be empty"),
    Conflict("slug", "another 'en' post has the slug 'a'"),
    IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed")),
    StoreUnavailable("cannot reach the database"),
    RuntimeError("a bug"),
]


def assert_error_shape(response: TestResponse) -> dict[str, Any]:
    """A JSON body ``{"error": one line, "status": the status}`` and maybe ``"field"``."""
    assert response.content_type == "application/json", (response.status, response.data[:200])
    body = json.loads(response.data)
    assert set(body) in ({"error", "status"}, {"error", "status", "field"}), body
    assert body["status"] == response.status_code
    assert isinstance(body["error"], str) and body["error"]
    assert "\n" not in body["error"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    return body


def raise_(error: BaseException) -> Callable[..., Any]:
    def raising(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    return raising


# Each route kind, and how to make a core exception come out of it.
ROUTES: dict[str, tuple[str, Callable[[pytest.MonkeyPatch, FlaskClient, BaseException], None]]] = {
    "feed endpoint": (
        "/feeds/all.atom",
        lambda mp, client, error: mp.setattr(
            app_state(client.application).service, "representation", raise_(error)
        ),
    ),
    "feed index": (
        "/feeds.json",
        lambda mp, _client, error: mp.setattr(queries, "all_categories", raise_(error)),
    ),
    "feeds page": (
        "/",
        lambda mp, _client, error: mp.setattr(queries, "all_categories", raise_(error)),
    ),
    "admin API": (
        "/api/posts",
        lambda mp, _client, error: mp.setattr(queries, "list_posts", raise_(error)),
    ),
}


@pytest.mark.parametrize("error", CORE_ERRORS, ids=lambda error: type(error).__name__)
def test_each_core_exception_gets_the_same_answer_on_every_route(
    api: FlaskClient, error: BaseException, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {}
    for name, (path, inject) in ROUTES.items():
        with monkeypatch.context() as patch:
            inject(patch, api, error)
            response = api.get(path)
        body = assert_error_shape(response)
        answers[name] = (response.status_code, body, response.headers.get("Retry-After"))
    assert len(set(map(repr, answers.values()))) == 1, answers
    status = next(iter(answers.values()))[0]
    assert status in (400, 404, 409, 422, 500, 503)


def error_responses(api: FlaskClient, anonymous: FlaskClient) -> Iterator[TestResponse]:
    """Every kind of refusal feeds makes, on every kind of route."""
    yield api.get("/nothing-here")
    yield api.get("//feeds.json")  # werkzeug merged the slashes, with a 308 and an HTML page
    yield api.get("/feeds/all.xml")
    yield api.get("/xx/feeds/all.atom")
    yield api.get("/feeds/category/nope.rss")
    yield api.get("/feeds/all.atom?before=yesterday")
    yield api.post("/feeds/all.atom")
    yield api.delete("/feeds.json")
    yield api.get("/feed/")  # WordPress URL before any WordPress import
    yield anonymous.get("/api/posts")
    yield anonymous.get("/api/posts", headers={"Authorization": "Bearer wrong"})
    yield api.get("/api/posts/999")
    yield api.get("/api/posts?limit=0")
    yield api.get("/api/posts?colour=red")
    yield api.post("/api/posts", data="{", content_type="application/json")
    yield api.post("/api/posts", data="x", content_type="text/plain")
    yield api.post("/api/posts", json={"title": "T"})
    yield api.post("/api/posts", json={"title": "T", "language": "en", "tint": 1})
    yield api.post("/api/posts", data=b"[" * 2_000_000, content_type="application/json")
    yield api.post("/api/categories", json={"slug": "tech", "name": "Tech"})
    yield api.post("/api/categories", json={"slug": "tech", "name": "Tech"})
    yield api.patch("/api/posts")


def test_every_error_has_the_one_json_shape(api: FlaskClient, api_settings: Settings) -> None:
    from feeds import create_app

    anonymous = create_app(api_settings).test_client()
    statuses = set()
    for response in error_responses(api, anonymous):
        if response.status_code < 400:
            continue  # the first category creation
        assert_error_shape(response)
        statuses.add(response.status_code)
    assert statuses >= {400, 401, 403, 404, 405, 409, 413, 415, 422}


def test_a_wordpress_redirect_has_a_json_body_not_html(api: FlaskClient) -> None:
    store = app_state(api.application).store
    with store.writing() as session, session.begin():
        set_store_fact(session, WORDPRESS_IMPORTED, "yes")
    response = api.get("/feed/")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/feeds/all.rss")
    assert response.content_type == "application/json"
    assert json.loads(response.data) == {"location": response.headers["Location"], "status": 301}


def test_a_204_carries_no_content_type(api: FlaskClient) -> None:
    post = api.post("/api/posts", json={"title": "T", "language": "en"}).get_json()
    response = api.delete(f"/api/posts/{post['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers


@pytest.mark.process
def test_the_dev_server_answers_a_too_long_url_with_json(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    """Flask's server answers a request line it cannot take itself, with Python's HTML page
    unless feeds gives it JSON; granian answers it with an empty body."""
    port = free_port()
    env = {
        "FEEDS_DATABASE_URL": settings.database_url,
        "FEEDS_ADMIN_TOKEN": ADMIN_TOKEN,
        "PATH": "/usr/bin:/bin",
    }
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feeds",
            "--config",
            str(REPO / "config.toml"),
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(process, port, log)
        response, body = request(port, "GET", "/feeds/" + "a" * 70_000)
        assert response.status == 414
        assert response.getheader("Content-Type") == "application/json"
        assert json.loads(body) == {"error": "Request-URI Too Long", "status": 414}
    finally:
        process.terminate()
        process.wait(timeout=10)
