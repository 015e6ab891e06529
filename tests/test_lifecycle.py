"""A post's life as readers see it: scheduled, published, updated, deleted (RFC 6721)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dateutil import parser as date_parser
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import Post, ScopeRevision
from feeds.store.queries import post_query
from feeds.store.writes import delete_post
from tests.conftest import add_post, parse_feed

NS = {"a": "http://www.w3.org/2005/Atom", "at": "http://purl.org/atompub/tombstones/1.0"}


def remove(store: Store, settings: Settings, post_id: int) -> None:
    with store.session() as session, session.begin():
        delete_post(
            session, settings, session.scalars(post_query().where(Post.id == post_id)).one()
        )


def revisions(store: Store) -> dict[str, int]:
    with store.session() as session:
        return {row.scope: row.revision for row in session.scalars(select(ScopeRevision))}


def test_deleted_post_leaves_every_feed_and_atom_announces_it(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    kept = add_post(store, settings, title="Kept", slug="kept")
    gone = add_post(store, settings, title="Gone", slug="gone", categories=["tech", "donjon"])
    entry_id = parse_feed(client.get("/feeds/category/donjon.atom").data).entries[0].id
    remove(store, settings, gone)
    assert kept
    for path in ("/feeds/all.atom", "/feeds/all.rss", "/en/feeds/category/tech.rss"):
        assert [e.title for e in parse_feed(client.get(path).data).entries] == ["Kept"], path
    for path in ("/feeds/all.atom", "/feeds/category/donjon.atom", "/en/feeds/all.atom"):
        root = etree.fromstring(client.get(path).data)
        (tombstone,) = root.xpath("at:deleted-entry", namespaces=NS)
        assert tombstone.get("ref") == entry_id
        when = date_parser.isoparse(tombstone.get("when"))
        assert abs(when - datetime.now(UTC)) < timedelta(minutes=1)
        link = tombstone.find("a:link", NS)
        assert link.get("href") == "https://www.ledger.com/blog/gone"
        assert date_parser.isoparse(root.findtext("a:updated", namespaces=NS)) == when


def test_deletion_moves_the_validators_of_the_feeds_it_left(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(store, settings, slug="kept", published=datetime(2024, 1, 2, tzinfo=UTC))
    gone = add_post(store, settings, slug="gone", published=datetime(2024, 1, 1, tzinfo=UTC))
    before = client.get("/feeds/all.rss")
    remove(store, settings, gone)
    after = client.get(
        "/feeds/all.rss", headers={"If-Modified-Since": before.headers["Last-Modified"]}
    )
    assert after.status_code == 200
    assert after.last_modified > before.last_modified


def test_tombstones_leave_after_the_configured_window(store: Store, settings: Settings) -> None:
    client = create_app(settings.replace(deleted_entries_days=0)).test_client()
    remove(store, settings, add_post(store, settings, slug="gone"))
    body = client.get("/feeds/all.atom").data
    assert etree.fromstring(body).xpath("at:deleted-entry", namespaces=NS) == []
    # A feed with nothing to announce does not declare the tombstones namespace, which the
    # W3C validator warns about.
    assert NS["at"].encode() not in body


def test_recreating_a_deleted_entry_id_lifts_its_tombstone(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    entry_id = "tag:example.com,2024:post-1"
    remove(store, settings, add_post(store, settings, slug="back", entry_id=entry_id))
    add_post(store, settings, slug="back", entry_id=entry_id)
    root = etree.fromstring(client.get("/feeds/all.atom").data)
    assert root.xpath("at:deleted-entry", namespaces=NS) == []
    assert parse_feed(etree.tostring(root)).entries[0].id == entry_id


def test_a_write_moves_only_the_revisions_of_the_scopes_it_touches(
    store: Store, settings: Settings
) -> None:
    add_post(store, settings, slug="one", categories=["tech"], language="en")
    first = revisions(store)
    add_post(store, settings, slug="two", categories=["donjon"], language="fr")
    second = revisions(store)
    tech = next(scope for scope in first if scope.startswith("cat:") and "/" not in scope)
    assert second[tech] == first[tech]
    assert second["lang:en"] == first["lang:en"]
    # Revisions come from one store-wide counter: the scopes touched take its new value.
    assert second["store"] == first["store"] + 1
    assert second["site"] == second["lang:fr"] == second["store"]


def test_tags_show_as_entry_categories_with_their_own_scheme(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    from feeds.store.validation import TermInput

    add_post(store, settings, tags=[TermInput("wallets", "Wallets")])
    (entry,) = parse_feed(client.get("/feeds/all.atom").data).entries
    tags = {tag.term: tag for tag in entry.tags}
    assert tags["wallets"].scheme == "https://www.ledger.com/blog/tag/"
    assert tags["wallets"].label == "Wallets"
    assert tags["tech"].scheme is None


def test_relative_links_in_content_become_absolute(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(
        store,
        settings,
        slug="links",
        language="fr",
        content_html='<p><a href="/blog/other">x</a> <img src="img/a.png" alt=""></p>',
    )
    content = parse_feed(client.get("/feeds/all.rss").data).entries[0].content[0].value
    assert 'href="https://www.ledger.com/blog/other"' in content
    assert 'src="https://www.ledger.com/fr/blog/img/a.png"' in content
