"""Cache purges through the outbox: by URL, Fastly's purge by surrogate key and
Cloudflare's by cache tag, each against a recording server on 127.0.0.1. A purge names
exactly the keys the changed feeds' answers carry."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from feeds import create_app
from feeds.push.delivery import Delivery
from feeds.push.senders import senders_from
from feeds.settings import ConfigError, Settings
from feeds.store import Store
from tests.conftest import add_post
from tests.hub_server import hub_server

TOKEN = "purge-token-from-the-environment"


def purging(store: Store, settings: Settings, *purges: dict[str, object]) -> Delivery:
    """A delivery to the purge targets ``purges`` (as config tables), started once."""
    settings = Settings.from_mapping({**_plain(settings), "purges": list(purges)})
    sending = Delivery(store, settings, senders_from(settings, {"CDN_TOKEN": TOKEN}))
    sending.run_once()
    return sending


def _plain(settings: Settings) -> dict[str, object]:
    """The settings as config values (without the table keys)."""
    keys = ("database_url", "base_url", "languages", "default_language", "revision_check_seconds")
    return {key: getattr(settings, key) for key in keys}


def feed_keys(client: FlaskClient, *paths: str) -> set[str]:
    """The surrogate keys the answers of ``paths`` carry (Surrogate-Key and Cache-Tag)."""
    keys = set()
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.headers["Cache-Tag"].split(",") == answer.headers["Surrogate-Key"].split()
        keys |= set(answer.headers["Surrogate-Key"].split())
    return keys


def test_a_url_purge_gets_every_changed_feed_url(store: Store, settings: Settings) -> None:
    with hub_server() as cache:
        sending = purging(store, settings, {"kind": "url", "url": cache.url + "purge{path}"})
        add_post(store, settings, categories=["tech"], slug="purged")
        sending.run_once()
        requests = list(cache.received)
    assert {request.method for request in requests} == {"PURGE"}
    paths = {request.path for request in requests}
    assert len(paths) == len(requests)  # each URL once
    assert {"/purge/feeds/all.atom", "/purge/feeds/all.rss", "/purge/en/feeds/all.atom"} <= paths
    assert "/purge/feeds/category/tech.atom" in paths
    assert "/purge/en/feeds/category/tech.rss" in paths


def test_fastly_purges_the_keys_the_changed_feeds_carry(store: Store, settings: Settings) -> None:
    client = create_app(settings).test_client()
    with hub_server() as fastly:
        sending = purging(store, settings, {
            "kind": "fastly", "url": fastly.url.rstrip("/"), "service_id": "SVC1",
            "token_env": "CDN_TOKEN", "soft": True,
        })  # fmt: skip
        add_post(store, settings, categories=["tech"], slug="tagged")
        sending.run_once()
        [request] = fastly.wait_for(1)
    assert (request.method, request.path) == ("POST", "/service/SVC1/purge")
    assert request.headers["Fastly-Key"] == TOKEN
    assert request.headers["Fastly-Soft-Purge"] == "1"
    purged = set(request.headers["Surrogate-Key"].split())
    changed = feed_keys(
        client, "/feeds/all.atom", "/en/feeds/all.rss", "/feeds/category/tech.atom",
        "/en/feeds/category/tech.rss", "/feeds/author/ada-lovelace.atom",
        "/en/feeds/author/ada-lovelace.rss",
    )  # fmt: skip
    assert changed - {"feeds"} == purged  # every changed feed's own key, and only those


def test_cloudflare_purges_by_cache_tag(store: Store, settings: Settings) -> None:
    client = create_app(settings).test_client()
    with hub_server() as cloudflare:
        sending = purging(store, settings, {
            "kind": "cloudflare", "url": cloudflare.url + "client/v4", "zone_id": "ZONE9",
            "token_env": "CDN_TOKEN",
        })  # fmt: skip
        add_post(store, settings, language="fr", categories=["science"], slug="étiqueté")
        sending.run_once()
        [request] = cloudflare.wait_for(1)
    assert (request.method, request.path) == ("POST", "/client/v4/zones/ZONE9/purge_cache")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    tags = set(json.loads(request.body)["tags"])
    assert tags == feed_keys(
        client, "/feeds/all.atom", "/fr/feeds/all.atom", "/feeds/category/science.rss",
        "/fr/feeds/category/science.atom", "/feeds/author/ada-lovelace.rss",
        "/fr/feeds/author/ada-lovelace.atom",
    ) - {"feeds"}  # fmt: skip


def test_a_purge_that_fails_is_retried_and_leaves_the_hub_alone(
    store: Store, settings: Settings
) -> None:
    with hub_server() as cache, hub_server() as hub:
        settings = Settings.from_mapping({
            **_plain(settings),
            "hubs": [{"url": hub.url}],
            "purges": [{"kind": "url", "url": cache.url + "{path}", "method": "POST"}],
        })  # fmt: skip
        sending = Delivery(store, settings, senders_from(settings, {}))
        sending.run_once()
        cache.status = 503
        add_post(store, settings, slug="half")
        sending.run_once()
        assert len(hub.received) == 1  # the hub heard, whatever the cache said
        assert cache.received and all(r.method == "POST" for r in cache.received)


@pytest.mark.parametrize(
    "table, message",
    [
        ({"kind": "varnish"}, "purges[0].kind: 'varnish' is not one of url, fastly, cloudflare"),
        ({"kind": "url", "url": "http://cache/purge"}, "purges[0].url: a template with {url}"),
        ({"kind": "url", "url": "{path}"}, "is not an absolute http(s) URL"),
        ({"kind": "url", "url": "http://c{path}", "method": "BAN"}, "purges[0].method: 'BAN'"),
        ({"kind": "fastly", "token_env": "T"}, "purges[0].service_id: required"),
        ({"kind": "cloudflare", "zone_id": "z", "token_env": "no such"}, "purges[0].token_env"),
        (
            {"kind": "fastly", "service_id": "s", "token_env": "T", "soft": "yes"},
            "soft: expected bool",
        ),
        ({"url": "http://c{path}"}, "purges[0]: kind is required"),
    ],
)
def test_purge_tables_are_checked(
    settings: Settings, table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_mapping({**_plain(settings), "purges": [table]})


def test_a_missing_token_is_a_config_error(settings: Settings) -> None:
    settings = Settings.from_mapping({**_plain(settings), "purges": [
        {"kind": "fastly", "service_id": "s", "token_env": "FASTLY_TOKEN"}]})  # fmt: skip
    with pytest.raises(
        ConfigError, match=re.escape("purges[0].token_env: FASTLY_TOKEN is not set")
    ):
        senders_from(settings, {})


def test_the_same_purge_twice_is_refused(settings: Settings) -> None:
    twice = [{"kind": "url", "url": "http://c/{path}"}] * 2
    with pytest.raises(ConfigError, match=r"purges: .* is listed twice"):
        Settings.from_mapping({**_plain(settings), "purges": twice})
