"""Downloading a feed to import, within bounds: http and https only; public addresses only,
unless ``import_allow_private_addresses``; at most ``import_max_redirects`` redirects; one
deadline, ``import_fetch_seconds``, for the whole download; a body that matches its
Content-Length. The size cap, ``import_max_bytes``, is the Source's, as for a file.

Written on http.client rather than urllib or urllib3, because each hop must be resolved
once, its addresses checked, and the connection made to a checked address, so that a
second DNS answer cannot swap in another one (DNS rebinding); and because their timeouts
bound each socket operation, not the download, which a server sending one byte a second
never trips.

This module follows the hops; ``fetch_policy`` says which URLs and addresses may be
fetched, ``fetch_attempt`` holds the deadline and the errors, ``fetch_body`` reads the body.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Iterator
from urllib.parse import urljoin

from feeds.ingest.fetch_attempt import (
    AddressRefused,
    Attempt,
    FetchFailed,
    FetchTimeout,
    TooManyRedirects,
)
from feeds.ingest.fetch_body import Body
from feeds.ingest.fetch_policy import Target, UnfetchableURL, fetch_target, refused_kind
from feeds.settings import Settings

__all__ = [
    "AddressRefused",
    "FetchFailed",
    "FetchTimeout",
    "TooManyRedirects",
    "download",
    "refused_kind",
]

USER_AGENT = "feeds-import/0.1"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@contextlib.contextmanager
def download(url: str, settings: Settings) -> Iterator[Body]:
    """The body of ``url``, after the redirects; FetchFailed (or a subclass) says why not."""
    fetch = _Fetch(url, settings)
    try:
        with fetch.open() as body:
            yield body
    finally:
        fetch.stop()


class _Fetch(Attempt):
    """One download, hop by hop: each resolved once, checked, and connected to as checked."""

    @contextlib.contextmanager
    def open(self) -> Iterator[Body]:
        """Follow the redirects to the answer with the body; FetchFailed for any other."""
        limit = self._settings.import_max_redirects
        redirects = 0
        while True:
            target = self._target()
            connection = self._connect(target)
            try:
                response = self._request(connection, target)
                location = response.getheader("Location")
                if response.status in REDIRECT_STATUSES and location:
                    response.close()
                    if redirects >= limit:
                        raise self.failure(
                            f"more than {limit} redirects (import_max_redirects)",
                            TooManyRedirects,
                        )
                    redirects += 1
                    self.hop = urljoin(self.hop, location.strip())
                    continue
                if not 200 <= response.status < 300:
                    raise self.failure(f"HTTP {response.status} {response.reason}")
                coding = (response.getheader("Content-Encoding") or "identity").strip()
                if coding.lower() != "identity":
                    raise self.failure(
                        f"the body is {coding}-encoded, which feeds does not decode "
                        "(it asked for identity)"
                    )
                if self._socket is None:
                    raise RuntimeError("the download's socket is not open")
                with Body(self, response, self._socket) as body:
                    yield body
                return
            finally:
                connection.close()

    def _target(self) -> Target:
        """The current hop's URL, checked: http or https, a host, a port."""
        try:
            return fetch_target(self.hop)
        except UnfetchableURL as error:
            raise self.failure(str(error)) from None

    def _connect(self, target: Target) -> http.client.HTTPConnection:
        """A connection to a checked address of the hop's host: only that address is used."""
        addresses = self._resolve(target.host, target.port)
        allowed = addresses
        if not self._settings.import_allow_private_addresses:
            allowed = [a for a in addresses if refused_kind(a[1][0]) is None]
        if not allowed:
            address = addresses[0][1][0]
            kind = f"a {refused_kind(address)} address"
            named = f"{address} is {kind}"
            if address != target.host:
                named = f"{target.host} resolves to {address}, {kind}"
            raise self.failure(
                f"{named}: refused (set "
                "import_allow_private_addresses = true to import from such addresses)",
                AddressRefused,
            )
        error: OSError | None = None
        for family, sockaddr in allowed:
            sock = socket.socket(family, socket.SOCK_STREAM)
            self.watch(sock)
            try:
                sock.settimeout(self.remaining())
                sock.connect(sockaddr)
                break
            except OSError as failed:
                error = failed
                self.watch(None)
                sock.close()
        else:
            if error is None:
                raise RuntimeError("a failed download has its error")
            raise self.network_failure(error, f"cannot connect to {target.host} port {target.port}")
        connection: http.client.HTTPConnection
        try:
            if target.scheme == "https":
                context = ssl.create_default_context()
                sock = context.wrap_socket(
                    sock, server_hostname=target.host, do_handshake_on_connect=False
                )
                self.watch(sock)  # before the handshake, which a server may drag out too
                sock.do_handshake()
                connection = http.client.HTTPSConnection(target.host, target.port, context=context)
            else:
                connection = http.client.HTTPConnection(target.host, target.port)
        except OSError as failed:
            raise self.network_failure(failed, f"TLS with {target.host}") from None
        connection.sock = sock  # connected to the address checked, never resolved again
        return connection

    def _resolve(self, host: str, port: int) -> list[tuple[int, tuple[str, int]]]:
        """(family, socket address) for each address of ``host``, within the deadline."""
        answer: list[tuple[int, tuple[str, int]]] = []
        problem: list[BaseException] = []

        def lookup() -> None:
            try:
                for family, _, _, _, sockaddr in socket.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                ):
                    answer.append((family, sockaddr))  # type: ignore[arg-type]
            except (OSError, UnicodeError) as error:
                problem.append(error)

        # getaddrinfo takes no timeout: it runs in a thread the deadline does not wait for.
        resolver = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
        resolver.start()
        resolver.join(self.remaining())
        if resolver.is_alive():
            raise self.timeout()
        if problem or not answer:
            error = problem[0] if problem else None
            reason = getattr(error, "strerror", None) or str(error or "no address")
            raise self.failure(f"cannot resolve {host}: {reason}")
        return answer

    def _request(
        self, connection: http.client.HTTPConnection, target: Target
    ) -> http.client.HTTPResponse:
        """Send the GET and read the status and headers of the answer."""
        if self._socket is None:
            raise RuntimeError("the download's socket is not open")
        try:
            self._socket.settimeout(self.remaining())
            connection.request(
                "GET",
                target.path,
                headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Connection": "close"},
            )
            return connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            raise self.network_failure(error, f"asking {target.host}") from None
