"""Admin pages: HTML views behind the admin token (feeds.web.api authorizes /admin as it
does /api), with the feeds page's security headers and never cached."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, render_template_string

from feeds.store.subscribers import WINDOW, feed_subscribers
from feeds.web.api.requests import current_store
from feeds.web.http import NOSNIFF, PAGE_POLICY

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

STATS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Who follows each feed</title>
<link rel="stylesheet" href="{{ url_for('static', filename='feeds.css') }}">
<link rel="icon" type="image/svg+xml" href="{{ url_for('static', filename='favicon.svg') }}">
</head>
<body>
<main>
<h1>Who follows each feed</h1>
<p>Over the last {{ days }} days: aggregators' latest counts, and readers without a count
(one per address and User-Agent a day).</p>
{% if figures %}
<table>
<thead><tr><th scope="col">Feed</th><th scope="col">Subscribers</th>
<th scope="col">Aggregators</th><th scope="col">Individuals</th>
<th scope="col">Services</th></tr></thead>
<tbody>
{% for figure in figures %}
<tr><th scope="row">{{ figure.feed }}</th><td>{{ figure.subscribers }}</td>
<td>{{ figure.aggregators }}</td><td>{{ figure.individuals }}</td>
<td>{{ figure.services_line }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p>No feed was polled in the last {{ days }} days.</p>
{% endif %}
</main>
</body>
</html>
"""


@blueprint.get("/stats")
def stats_page() -> Response:
    """The table of ``feeds stats``, as a page."""
    with current_store().session() as session:
        figures = feed_subscribers(session, datetime.now(UTC))
    page = Response(render_template_string(STATS_PAGE, figures=figures, days=WINDOW.days))
    page.headers.extend([*PAGE_POLICY, NOSNIFF, ("Cache-Control", "no-store")])
    return page
