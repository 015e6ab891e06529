"""The admin JSON API: create, change and delete posts, categories and authors; read who
follows each feed.

This module holds the blueprint, who may use it (feeds.web.auth) and its own refusals; the routes
are in posts.py, taxonomy.py and stats.py, the request parsing in requests.py.

Every request needs ``Authorization: Bearer <admin_token>``; without an admin token in the
settings the API is disabled and every /api URL answers 404. Every request that writes is
one transaction through ``feeds.store.writes``, so a change is stored whole or not at all.
Every error is JSON: ``{"error": "<one line>", "status": N, "field": "<name>"}``, with
``field`` only when one field is at fault.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from flask.blueprints import BlueprintSetupState

from feeds.web.app_state import app_state
from feeds.web.auth import AuthRefused, check_bearer

blueprint = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

DISABLED = "admin API disabled: set FEEDS_ADMIN_TOKEN or FEEDS_ADMIN_TOKEN_FILE"
# The URLs behind the admin token: the API, and the admin pages (feeds.web.admin).
GUARDED = ("/api", "/admin")


@blueprint.record
def _warn_when_disabled(state: BlueprintSetupState) -> None:
    """Say once, when the app is created, that the API answers nothing without a token."""
    if not app_state(state.app).settings.admin_token:
        log.warning(DISABLED)


# An app-wide hook, because a blueprint's own hooks do not run for URLs that match none of
# its routes: /api/nonsense and a wrong method must be refused for want of a token too.
@blueprint.before_app_request
def _authorize() -> Response | None:
    """Refuse an /api or /admin request that lacks the admin token (401), has a wrong one (403), or
    comes from a client that failed too often (429)."""
    if not any(
        request.path == prefix or request.path.startswith(prefix + "/") for prefix in GUARDED
    ):
        return None
    expected = app_state().settings.admin_token
    if not expected:
        return error_answer(404, DISABLED)
    try:
        check_bearer(
            request.headers.get("Authorization", ""),
            expected,
            request.remote_addr or "",
            app_state().auth_failures,
        )
    except AuthRefused as refusal:
        answer = error_answer(refusal.status, refusal.message)
        if refusal.status == 401:
            answer.headers["WWW-Authenticate"] = "Bearer"
        if refusal.retry_after is not None:
            answer.headers["Retry-After"] = str(refusal.retry_after)
        return answer
    return None


# The routes register themselves on the blueprint above.
from feeds.web.api import posts, stats, taxonomy  # noqa: E402, F401
from feeds.web.api.requests import ApiError, error_answer  # noqa: E402


@blueprint.errorhandler(ApiError)
def _refused(error: ApiError) -> Response:
    """The API's own refusals; the store's and the database's go through feeds.web.errors."""
    return error_answer(error.status, error.message, error.field)
