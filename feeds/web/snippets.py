"""/feeds/snippet.html: the autodiscovery tags of each kind of blog page, for a publisher to
copy into the blog's own templates (feeds.render.snippet; ``feeds snippet`` prints one)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from feeds.render.snippet import page_snippets
from feeds.store import queries
from feeds.web.app_state import app_state
from feeds.web.routes import cacheable_answer

blueprint = Blueprint("snippets", __name__)


@blueprint.get("/feeds/snippet.html")
def snippet_page() -> Response:
    """The snippet of the home page, each language's home and each category's page, and how
    to get a tag's or author's; 304 when the client's copy is current."""
    state = app_state()
    with state.store.reaching(), state.store.session() as session:
        categories = queries.all_categories(session)
    html = render_template(
        "snippet.html",
        settings=state.settings,
        snippets=page_snippets(state.settings, categories),
        example=categories[0].slug if categories else "tech",
    )
    return cacheable_answer(html, "text/html; charset=utf-8")
