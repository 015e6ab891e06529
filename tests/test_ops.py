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
