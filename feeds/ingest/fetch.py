"""Downloading a feed to import, within bounds: http and https only; public addresses only,
unless ``import_allow_private_addresses``; at most ``import_max_redirects`` redirects; one
deadline, ``import_fetch_seconds``, for the whole download; a body that matches its
Content-Length. The size cap, ``import_max_bytes``, is the Source's, as for a file.

Written on http.client rather than urllib or urllib3, because each hop must be resolved
once, its addresses checked, and the connection made to a checked address, so that a
second DNS answer cannot swap in another one (DNS rebinding); and because their timeouts
bound each socket operation, not the download, which a server sending one byte a second
never trips.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar, overload
from urllib.parse import quote, urljoin, urlsplit

from feeds.ingest.runner import ImportFailed
from feeds.settings import Settings

USER_AGENT = "feeds-import/0.1"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Once the body Content-Length announced has come, how long to wait for the server to close
# the connection (the request asks it to): more bytes instead mean the Content-Length lied.
CLOSE_GRACE_SECONDS = 1.0
# Kept as they are when a path and query are made ASCII for the request line.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
# The address classes refused unless import_allow_private_addresses, as ipaddress names them.
_REFUSED_KINDS = ("unspecified", "loopback", "link-local", "multicast", "reserved", "private")


class FetchFailed(ImportFailed):
    """A URL could not be downloaded; the message names it and says why."""


class AddressRefused(FetchFailed):
    """The URL, or one it redirects to, leads to an address kept out by the settings."""


class TooManyRedirects(FetchFailed):
    """The URL redirects more than import_max_redirects times."""


class FetchTimeout(FetchFailed):
    """The download did not complete within import_fetch_seconds."""


_Failure = TypeVar("_Failure", bound=FetchFailed)


def refused_kind(address: str) -> str | None:
    """The kind of a non-public address (``loopback``, ``private``…); None for a public one.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo) is judged by it too.
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        kind = refused_kind(str(embedded)) if embedded is not None else None
        if kind is not None:
            return kind
    for kind in _REFUSED_KINDS:
        if getattr(ip, "is_" + kind.replace("-", "_")):
            return kind
    return None if ip.is_global else "special-purpose"


@dataclass(frozen=True)
class _Target:
    """One hop's URL, split as the connection needs it."""

    scheme: str
    host: str  # ASCII: an IP literal or an IDNA host name
    port: int
    path: str  # path and query, ASCII, as the request line carries them


class Body(io.RawIOBase):
    """The body of a download, read within the deadline and held to its Content-Length.

    The server is asked to close the connection after the answer, and the body is read to
    that end: so a body shorter or longer than its Content-Length is an error, not a
    silently cut or padded document.
    """

    def __init__(self, fetch: _Fetch, response: http.client.HTTPResponse, sock: socket.socket):
        super().__init__()
        self.headers = response.headers
        self.declared_length = None if response.chunked else response.length
        response.length = None  # read to the end of the connection, past what was announced
        self._fetch = fetch
        self._response = response
        self._socket = sock
        self._received = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._done:
            return 0
        declared = self.declared_length
        complete = declared is not None and self._received >= declared
        try:
            if complete:
                self._socket.settimeout(min(CLOSE_GRACE_SECONDS, self._fetch.remaining()))
            else:
                self._socket.settimeout(self._fetch.remaining())
            data = self._response.read1(len(buffer))
        except (FetchTimeout, TimeoutError):
            if complete:  # the whole body came; the server only kept the connection open
                self._done = True
                return 0
            raise self._fetch.timeout() from None
        except http.client.IncompleteRead:
            if self._fetch.passed():
                raise self._fetch.timeout() from None
            raise self._fetch.failure(
                f"the body broke off after {self._received} bytes (the connection closed, or "
                "its chunked encoding is broken)"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise self._fetch.network_failure(error, "reading the body") from None
        if not data:
            if self._fetch.passed() and not complete:  # the watchdog shut the socket
                raise self._fetch.timeout()
            if declared is not None and self._received < declared:
                raise self._fetch.failure(
                    f"the connection closed after {self._received} of the {declared} bytes "
                    "its Content-Length announced"
                )
            self._done = True
            return 0
        self._received += len(data)
        if declared is not None and self._received > declared:
            raise self._fetch.failure(
                f"the server sent more than the {declared} bytes its Content-Length announced"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._response.close()
        super().close()


@contextlib.contextmanager
def download(url: str, settings: Settings) -> Iterator[Body]:
    """The body of ``url``, after the redirects; FetchFailed (or a subclass) says why not."""
    fetch = _Fetch(url, settings)
    try:
        with fetch.open() as body:
            yield body
    finally:
        fetch.stop()


class _Fetch:
    """One download: the hop it is at, its deadline, and the socket the deadline watches."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.hop = url
        self._settings = settings
        self._seconds = settings.import_fetch_seconds
        self._end = time.monotonic() + self._seconds
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        # Socket timeouts bound each read, so the whole download needs its own watchdog: a
        # server may send its headers a byte at a time.
        self._watchdog = threading.Timer(self._seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    # --- the deadline -----------------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left before the deadline; FetchTimeout once it has passed."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise self.timeout()
        return left

    def passed(self) -> bool:
        return time.monotonic() >= self._end

    def timeout(self) -> FetchTimeout:
        return self.failure(
            f"no complete answer within {self._seconds:g} s (import_fetch_seconds)", FetchTimeout
        )

    def _expire(self) -> None:
        with self._lock:
            if self._socket is not None:
                # The plain socket's shutdown, also under TLS: it wakes a blocked read.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def stop(self) -> None:
        self._watchdog.cancel()
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    # --- failures ---------------------------------------------------------------------

    @overload
    def failure(self, reason: str) -> FetchFailed: ...
    @overload
    def failure(self, reason: str, kind: type[_Failure]) -> _Failure: ...
    def failure(self, reason: str, kind: type[FetchFailed] = FetchFailed) -> FetchFailed:
        """The error for this download, naming the hop it reached."""
        via = f" (redirected to {self.hop})" if self.hop != self.url else ""
        return kind(f"cannot fetch {self.url}{via}: {reason}")

    def network_failure(self, error: BaseException, doing: str) -> FetchFailed:
        """The error for a failed connection, TLS handshake or read; ``doing`` says which."""
        if isinstance(error, TimeoutError) or self.passed():
            return self.timeout()
        if isinstance(error, ssl.SSLCertVerificationError):
            reason = f"certificate refused: {error.verify_message}"
        elif isinstance(error, ssl.SSLError):
            reason = f"{error.reason or error}"
        elif isinstance(error, ConnectionRefusedError):
            reason = "connection refused"
        elif isinstance(error, http.client.HTTPException):
            detail = str(error)
            reason = f"not a valid HTTP answer ({type(error).__name__}{': ' if detail else ''}"
            reason += f"{detail})"
        elif isinstance(error, OSError):
            reason = error.strerror or str(error) or type(error).__name__
        else:
            reason = str(error)
        return self.failure(f"{doing}: {reason}")

    # --- the hops ---------------------------------------------------------------------

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

    def _target(self) -> _Target:
        """The current hop's URL, checked: http or https, a host, a port."""
        parts = urlsplit(self.hop)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise self.failure("only http and https URLs can be imported")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise self.failure("the port is not a number from 0 to 65535") from None
        host = parts.hostname or ""
        if not host:
            raise self.failure("the URL has no host")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise self.failure(f"{host!r} is not a valid host name") from None
        path = quote(parts.path or "/", safe=_URL_SAFE)
        if parts.query:
            path += "?" + quote(parts.query, safe=_URL_SAFE)
        return _Target(scheme, host, port, path)

    def _connect(self, target: _Target) -> http.client.HTTPConnection:
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
            self._watch(sock)
            try:
                sock.settimeout(self.remaining())
                sock.connect(sockaddr)
                break
            except OSError as failed:
                error = failed
                self._watch(None)
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
                self._watch(sock)  # before the handshake, which a server may drag out too
                sock.do_handshake()
                connection = http.client.HTTPSConnection(target.host, target.port, context=context)
            else:
                connection = http.client.HTTPConnection(target.host, target.port)
        except OSError as failed:
            raise self.network_failure(failed, f"TLS with {target.host}") from None
        connection.sock = sock  # connected to the address checked, never resolved again
        return connection

    def _watch(self, sock: socket.socket | None) -> None:
        """Make ``sock`` the socket the deadline shuts down; the previous one is closed."""
        with self._lock:
            if self._socket is not None and self._socket is not sock:
                self._socket.close()
            self._socket = sock

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
        self, connection: http.client.HTTPConnection, target: _Target
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
