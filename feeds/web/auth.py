"""Who may use the admin API: the bearer token, and a limit on failed attempts per client.

The right token always works, even from a client over the limit: a publisher behind the
same proxy or NAT as someone guessing (every request then has the proxy's address) must
not be locked out. Only failures are counted and refused; with a token of the usual
length (32 random bytes), being told which guess was right after the limit is of no use.
"""

from __future__ import annotations

import hmac
import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class AuthRefused(Exception):
    """A request without the admin token: its status (401, 403, 429) and what to do."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class FailedAuthentications:
    """Failed authentications per client over a moving minute, in this process (each
    worker counts its own)."""

    def __init__(self, per_minute: int) -> None:
        self._limit = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may fail again; None while it is under the limit."""
        if self._limiter.test(self._limit, client):
            return None
        reset = self._limiter.get_window_stats(self._limit, client).reset_time
        return max(1, math.ceil(reset - time.time()))

    def record(self, client: str) -> None:
        """Count one failed authentication of ``client``."""
        self._limiter.hit(self._limit, client)


def check_bearer(
    authorization: str, expected: str, client: str, failures: FailedAuthentications
) -> None:
    """Pass if the Authorization header carries the admin token ``expected``; else
    AuthRefused: 401 without a bearer token, 403 with a wrong one, 429 once ``client``
    has failed too often."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and _token_matches(token.strip(), expected):
        return
    retry_after = failures.retry_after(client)
    if retry_after is not None:
        raise AuthRefused(429, "too many failed authentications; try again later", retry_after)
    failures.record(client)
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthRefused(401, "send the admin token as Authorization: Bearer <token>")
    raise AuthRefused(403, "the token is not the admin token")


def _token_matches(given: str, expected: str) -> bool:
    """Whether ``given`` is the admin token, compared in constant time."""
    try:
        # WSGI hands headers over as latin-1 text: this gives back the bytes that were sent.
        sent = given.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return bool(given) and hmac.compare_digest(sent, expected.encode("utf-8"))
