"""Operations endpoints and logs, as a load balancer, Prometheus and an operator see them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import add_post, client_of_a_vanished_database
from tests.test_cache import statements


def samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_healthz_answers_without_the_database(client: FlaskClient) -> None:
    with statements(client.application) as seen:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    assert seen == []


def test_readyz_is_ready_on_a_current_schema(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_is_503_with_a_reason_on_a_schema_behind(store: Store, client: FlaskClient) -> None:
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unready"
    assert "run `feeds db upgrade` first" in body["reason"]


def test_readyz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    client = client_of_a_vanished_database(tmp_path)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "cannot reach the database" in response.get_json()["reason"]
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/healthz").status_code == 200


def test_metrics_count_requests_cache_lookups_renders_and_the_304_share(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    add_post(store, settings)
    before = samples(client)
    first = client.get("/feeds/all.atom")
    for _ in range(3):
        client.get("/feeds/all.atom", headers={"If-None-Match": first.headers["ETag"]})
    client.get("/feeds/category/nope.atom")
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    requests = "feeds_http_requests_total"
    assert delta(requests, route="feeds.feed", status="200") == 1
    assert delta(requests, route="feeds.feed", status="304") == 3
    assert delta(requests, route="feeds.feed", status="404") == 1
    assert delta("feeds_cache_lookups_total", result="miss") == 1
    assert delta("feeds_cache_lookups_total", result="hit") == 3
    assert delta("feeds_render_seconds_count") == 1
    assert 0 < after[("feeds_not_modified_ratio", ())] < 1


def test_each_request_is_one_json_log_line(
    store: Store, settings: Settings, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    add_post(store, settings)
    with caplog.at_level(logging.INFO, logger="feeds.access"):
        client.get("/feeds/all.rss?utm_source=x")
        client.get("/feeds/all.rss")
        client.get("/nowhere")
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    assert [(line["path"], line["status"], line["cache"]) for line in lines] == [
        ("/feeds/all.rss?utm_source=x", 200, "miss"),
        ("/feeds/all.rss", 200, "hit"),
        ("/nowhere", 404, None),
    ]
    assert lines[0]["route"] == "feeds.feed" and lines[2]["route"] == "unmatched"
    assert lines[0]["bytes"] > 0 and lines[0]["ms"] >= 0 and lines[0]["method"] == "GET"


def test_access_log_off_logs_no_line_but_still_counts(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = create_app(settings.replace(access_log=False)).test_client()
    before = samples(client)
    with caplog.at_level(logging.INFO, logger="feeds.access"):
        client.get("/feeds/all.rss")
        client.get("/healthz")
    assert [r for r in caplog.records if r.name == "feeds.access"] == []
    after = samples(client)
    key = ("feeds_http_requests_total", (("route", "feeds.feed"), ("status", "200")))
    assert after[key] - before.get(key, 0.0) == 1


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "feeds.access"]


SECRET = "s3cr3t-VALUE"


@pytest.mark.parametrize(
    "name",
    ["token", "access_token", "key", "api_key", "apiKey", "password", "secret", "client_secret",
     "auth", "signature", "X-Amz-Signature", "sig", "code", "session_id"],
)  # fmt: skip
def test_a_secret_in_the_query_string_is_redacted_from_the_access_log(
    demo_client: FlaskClient, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.INFO, logger="feeds.access"):
        demo_client.get(f"/feeds/all.rss?utm_source=x&{name}={SECRET}")
        demo_client.get(f"/feeds.json?{name}={SECRET}")
    paths = [line["path"] for line in access_lines(caplog)]
    assert paths == [
        f"/feeds/all.rss?utm_source=x&{name}=[redacted]",
        f"/feeds.json?{name}=[redacted]",
    ]
    assert SECRET not in caplog.text


def test_a_random_looking_value_is_redacted_whatever_its_name(
    demo_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = [
        "c2VjcmV0LXRva2VuLTEyMzQ1Njc4OTA",  # base64
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",  # hex
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    ]
    with caplog.at_level(logging.INFO, logger="feeds.access"):
        for token in tokens:
            demo_client.get(f"/feeds/all.atom?x={token}")
    assert [line["path"] for line in access_lines(caplog)] == ["/feeds/all.atom?x=[redacted]"] * 3


@pytest.mark.parametrize(
    "query",
    ["before=1695372000000000-812", "utm_source=newsletter&utm_campaign=spring_sale_2024",
     "author=Ada%20Lovelace", "since=2024-05-01T10%3A00%3A00Z", "keyword=feeds"],
)  # fmt: skip
def test_ordinary_query_strings_are_logged_as_sent(
    demo_client: FlaskClient, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    with caplog.at_level(logging.INFO, logger="feeds.access"):
        demo_client.get(f"/feeds/all.atom?{query}")
    assert [line["path"] for line in access_lines(caplog)] == [f"/feeds/all.atom?{query}"]
