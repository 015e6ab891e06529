"""`feeds import feed URL` against real servers on 127.0.0.1: only public addresses by
default, checked again on each redirect; a bounded number of redirects; one deadline for
the whole download; a size cap; a Content-Length that must be true; a clear message for
every failure."""

from __future__ import annotations

import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from click.testing import CliRunner

from feeds.cli import main
from feeds.ingest import fetch
from feeds.ingest.feed import FEED_IMPORTER
from feeds.ingest.fetch import (
    AddressRefused,
    FetchFailed,
    FetchTimeout,
    TooManyRedirects,
    refused_kind,
)
from feeds.ingest.runner import ImportFailed, ImportOptions, ImportReport
from feeds.ingest.source import InputTooLarge, open_source
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO
from tests.fixtures import RSS, post_count
from tests.live import require_tool

FEED = RSS.read_bytes()
# How an answer is written: (path asked for, the connection's file to write to).
Respond = Callable[[str, BinaryIO], None]


class Server:
    """A real TCP server on ``host`` answering each request with ``respond``; it records the
    paths asked for and how many body bytes an endless answer managed to send."""

    def __init__(
        self, respond: Respond, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ):
        self.paths: list[str] = []
        self.sent = 0
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    if tls is not None:
                        self.connection.do_handshake()  # type: ignore[attr-defined]
                    request = self.rfile.readline().decode("latin-1").split()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    server.paths.append(request[1] if len(request) > 1 else "")
                    respond(request[1], self.wfile)
                except (OSError, ssl.SSLError):
                    pass  # the client went away: what these tests provoke

        class TCPServer(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self) -> tuple[socket.socket, object]:
                sock, address = super().get_request()
                if tls is not None:
                    sock = tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                return sock, address

        self._server = TCPServer((host, 0), Handler)
        self.port = self._server.server_address[1]
        self.host = host
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/feed.rss", scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start servers (closed after the test): serve(respond, host=…, tls=…)."""
    servers: list[Server] = []

    def start(respond: Respond, **options: object) -> Server:
        server = Server(respond, **options)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def answer(body: bytes = FEED, status: str = "200 OK", headers: str = "") -> Respond:
    """An answer with a true Content-Length, then the connection closed."""

    def respond(_path: str, out: BinaryIO) -> None:
        out.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/rss+xml\r\n{headers}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    return respond


def redirect(location: str | Callable[[str], str], status: str = "302 Found") -> Respond:
    def respond(path: str, out: BinaryIO) -> None:
        target = location(path) if callable(location) else location
        answer(b"", status, f"Location: {target}\r\n")(path, out)

    return respond


def local(settings: Settings, **changes: object) -> Settings:
    """Settings that let an import reach this machine's own servers."""
    return settings.replace(import_allow_private_addresses=True, **changes)


def import_url(store: Store, settings: Settings, url: str) -> ImportReport:
    with open_source(url, allow_url=True, settings=settings) as source:
        return FEED_IMPORTER.run(store, settings, source, ImportOptions())


# --- addresses -----------------------------------------------------------------------------


def test_the_default_refuses_a_loopback_address_before_connecting(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(answer())
    with pytest.raises(AddressRefused) as failure:
        import_url(store, settings, server.url())
    assert str(failure.value) == (
        f"cannot fetch {server.url()}: 127.0.0.1 is a loopback address: refused (set "
        "import_allow_private_addresses = true to import from such addresses)"
    )
    assert server.paths == []
    assert post_count(store) == 0


def test_a_host_name_is_judged_by_the_address_it_resolves_to(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(answer())
    url = f"http://localhost:{server.port}/feed.rss"
    with pytest.raises(AddressRefused, match=r"localhost resolves to (127\.0\.0\.1|::1), a loopb"):
        import_url(store, settings, url)
    assert server.paths == []


def test_with_private_addresses_allowed_the_feed_imports(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(answer())
    report = import_url(store, local(settings), server.url())
    assert report.counts() == "created 4, updated 0, unchanged 0, skipped 2"
    assert server.paths == ["/feed.rss"]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.1.2.3", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "special-purpose"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert refused_kind(address) == kind


def _as_if_public(address: str) -> Callable[[str], str | None]:
    """refused_kind, except that ``address`` counts as public: these tests have no public
    server to start at, so one loopback address stands in for one."""
    real = refused_kind
    return lambda candidate: None if candidate == address else real(candidate)


def test_a_redirect_to_a_refused_address_is_refused(
    store: Store,
    settings: Settings,
    serve: Callable[..., Server],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inside = serve(answer(), host="127.0.0.2")
    outside = serve(redirect(inside.url()))
    monkeypatch.setattr(fetch, "refused_kind", _as_if_public("127.0.0.1"))
    with pytest.raises(AddressRefused) as failure:
        import_url(store, settings, outside.url())
    assert str(failure.value).startswith(
        f"cannot fetch {outside.url()} (redirected to {inside.url()}): "
        "127.0.0.2 is a loopback address: refused"
    )
    assert outside.paths == ["/feed.rss"]
    assert inside.paths == []


def test_the_connection_goes_to_the_address_checked_not_a_second_answer(
    store: Store,
    settings: Settings,
    serve: Callable[..., Server],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: a name that answers a public address, then a private one, once checked."""
    public = serve(answer())
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: str, port: int, *args: object, **kwargs: object) -> object:
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        lookups.append(host)
        return real_getaddrinfo(next(answers), port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(fetch, "refused_kind", _as_if_public("127.0.0.1"))
    url = f"http://rebind.example:{public.port}/feed.rss"
    report = import_url(store, settings, url)
    assert report.created == 4
    assert lookups == ["rebind.example"]
    assert public.paths == ["/feed.rss"]


# --- redirects -----------------------------------------------------------------------------


def test_a_redirect_loop_stops_after_the_allowed_redirects(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(redirect(lambda path: "/b" if path == "/a" else "/a"))
    with pytest.raises(TooManyRedirects) as failure:
        import_url(store, local(settings, import_max_redirects=5), server.url("/a"))
    assert str(failure.value) == (
        f"cannot fetch {server.url('/a')} (redirected to {server.url('/b')}): "
        "more than 5 redirects (import_max_redirects)"
    )
    assert len(server.paths) == 6  # the URL, then five redirects followed


def test_redirects_up_to_the_limit_are_followed(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    """/r3 → /r2 → /r1 → /r0, the feed: three redirects."""

    def respond(path: str, out: BinaryIO) -> None:
        hops = int(path.removeprefix("/r"))
        if hops:
            redirect(f"/r{hops - 1}", "301 Moved Permanently")(path, out)
        else:
            answer()(path, out)

    server = serve(respond)
    report = import_url(store, local(settings, import_max_redirects=3), server.url("/r3"))
    assert report.created == 4
    with pytest.raises(TooManyRedirects, match="more than 2 redirects"):
        import_url(store, local(settings, import_max_redirects=2), server.url("/r3"))


def test_a_redirect_to_another_scheme_is_refused(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(redirect("file:///etc/passwd"))
    with pytest.raises(FetchFailed) as failure:
        import_url(store, local(settings), server.url())
    assert str(failure.value) == (
        f"cannot fetch {server.url()} (redirected to file:///etc/passwd): "
        "only http and https URLs can be imported"
    )


# --- deadline, size, Content-Length --------------------------------------------------------


def trickle(headers_too: bool) -> Respond:
    """An answer sent a few bytes every 0.1 s, for ever: no single read ever waits long."""

    def respond(_path: str, out: BinaryIO) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        if not headers_too:
            out.write(head + b"\r\n")
            out.flush()
            head = b""
        data = head + FEED * 1000
        for start in range(0, len(data), 4):
            out.write(data[start : start + 4])
            out.flush()
            time.sleep(0.1)

    return respond


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_trickling_server_is_stopped_at_the_deadline(
    store: Store, settings: Settings, serve: Callable[..., Server], headers_too: bool
) -> None:
    server = serve(trickle(headers_too))
    start = time.monotonic()
    with pytest.raises(FetchTimeout) as failure:
        import_url(store, local(settings, import_fetch_seconds=1.0), server.url())
    assert time.monotonic() - start < 3
    assert str(failure.value) == (
        f"cannot fetch {server.url()}: no complete answer within 1 s (import_fetch_seconds)"
    )


def endless(chunked: bool, announced: int | None = None) -> Respond:
    def respond(_path: str, out: BinaryIO) -> None:
        length = f"Content-Length: {announced}\r\n" if announced is not None else ""
        framing = "Transfer-Encoding: chunked\r\n" if chunked else length
        out.write(f"HTTP/1.1 200 OK\r\n{framing}\r\n".encode())
        piece = b"<rss><channel>"
        while True:
            out.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            piece = b"<item><title>more</title></item>" * 2000

    return respond


@pytest.mark.parametrize(
    ("chunked", "announced"),
    [(False, None), (True, None), (False, 10)],
    ids=["until-closed", "chunked", "content-length-10"],
)
def test_an_endless_body_stops_at_the_size_cap(
    store: Store,
    settings: Settings,
    serve: Callable[..., Server],
    chunked: bool,
    announced: int | None,
) -> None:
    server = serve(endless(chunked, announced))
    capped = local(settings, import_max_bytes=1 << 20)
    start = time.monotonic()
    with pytest.raises(ImportFailed) as failure:
        import_url(store, capped, server.url())
    assert time.monotonic() - start < 5
    if announced is None:
        assert isinstance(failure.value, InputTooLarge)
        assert str(failure.value) == (
            f"{server.url()} is larger than import_max_bytes (1 MiB): refused; "
            "raise import_max_bytes to import it"
        )
    else:  # the Content-Length lied the other way: the body goes on past it
        assert str(failure.value) == (
            f"cannot fetch {server.url()}: the server sent more than the 10 bytes its "
            "Content-Length announced"
        )
    assert post_count(store) == 0


def test_a_content_length_over_the_cap_is_refused_before_the_body_is_read(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(answer(FEED * 20))
    with pytest.raises(InputTooLarge, match=r"is larger than import_max_bytes \(4 KiB\)"):
        import_url(store, local(settings, import_max_bytes=4096), server.url())


def lying(body: bytes, announced: int, keep_open: bool = False) -> Respond:
    def respond(_path: str, out: BinaryIO) -> None:
        out.write(f"HTTP/1.1 200 OK\r\nContent-Length: {announced}\r\n\r\n".encode() + body)
        out.flush()
        if keep_open:
            time.sleep(5)

    return respond


def test_a_body_shorter_than_its_content_length_is_an_error(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(lying(FEED, len(FEED) + 1000))
    with pytest.raises(FetchFailed) as failure:
        import_url(store, local(settings), server.url())
    assert str(failure.value) == (
        f"cannot fetch {server.url()}: the connection closed after {len(FEED)} of the "
        f"{len(FEED) + 1000} bytes its Content-Length announced"
    )
    assert post_count(store) == 0


def test_a_short_body_on_a_connection_kept_open_ends_at_the_deadline(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    """What took urllib 31 s and a traceback."""
    server = serve(lying(FEED, len(FEED) + 1000, keep_open=True))
    start = time.monotonic()
    with pytest.raises(FetchTimeout):
        import_url(store, local(settings, import_fetch_seconds=1.0), server.url())
    assert time.monotonic() - start < 3


def test_a_body_longer_than_its_content_length_is_an_error(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    server = serve(lying(FEED, 200))
    with pytest.raises(FetchFailed) as failure:
        import_url(store, local(settings), server.url())
    assert str(failure.value) == (
        f"cannot fetch {server.url()}: the server sent more than the 200 bytes its "
        "Content-Length announced"
    )
    assert post_count(store) == 0


def test_a_true_content_length_on_a_connection_kept_open_is_fine(
    store: Store, settings: Settings, serve: Callable[..., Server]
) -> None:
    """A server that ignores `Connection: close` costs a short wait, not an error."""
    server = serve(lying(FEED, len(FEED), keep_open=True))
    assert import_url(store, local(settings), server.url()).created == 4


# --- TLS and other failures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl: (certificate, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = require_tool("openssl", "openssl")
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def tls_server(serve: Callable[..., Server], certificate: tuple[Path, Path]) -> Server:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return serve(answer(), tls=context)


@pytest.mark.process
def test_an_untrusted_certificate_is_a_clear_error(
    store: Store,
    settings: Settings,
    serve: Callable[..., Server],
    certificate: tuple[Path, Path],
) -> None:
    server = tls_server(serve, certificate)
    url = server.url(scheme="https")
    with pytest.raises(FetchFailed) as failure:
        import_url(store, local(settings), url)
    assert str(failure.value) == (
        f"cannot fetch {url}: TLS with 127.0.0.1: certificate refused: self-signed certificate"
    )


@pytest.mark.process
def test_a_trusted_certificate_imports_over_https(
    store: Store,
    settings: Settings,
    serve: Callable[..., Server],
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = tls_server(serve, certificate)
    assert import_url(store, local(settings), server.url(scheme="https")).created == 4


def test_a_name_that_does_not_resolve_is_a_clear_error(store: Store, settings: Settings) -> None:
    with pytest.raises(FetchFailed, match=r"^cannot fetch http://no-such-host\.invalid/feed: "):
        import_url(store, settings, "http://no-such-host.invalid/feed")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "FEEDS_IMPORT_FETCH_SECONDS": "1",
        "FEEDS_IMPORT_MAX_BYTES": "1048576",
    }


@pytest.mark.parametrize(
    ("respond", "allowed", "message"),
    [
        (answer(), False, "127.0.0.1 is a loopback address: refused"),
        (answer(b"", "500 Internal Server Error"), True, "HTTP 500 Internal Server Error"),
        (trickle(headers_too=False), True, "no complete answer within 1 s"),
        (endless(chunked=False), True, "is larger than import_max_bytes (1 MiB)"),
        (lying(FEED, 200), True, "more than the 200 bytes its Content-Length announced"),
        (redirect("/"), True, "more than 5 redirects"),
        (redirect("gopher://x/"), True, "only http and https URLs can be imported"),
    ],
    ids=["loopback", "http-500", "deadline", "cap", "content-length", "redirects", "scheme"],
)
def test_every_url_failure_is_one_error_line_from_the_command(
    env: dict[str, str],
    serve: Callable[..., Server],
    respond: Respond,
    allowed: bool,
    message: str,
) -> None:
    server = serve(respond)
    if allowed:
        env["FEEDS_IMPORT_ALLOW_PRIVATE_ADDRESSES"] = "true"
    result = CliRunner().invoke(main, ["import", "feed", server.url()], env=env)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_refused_connection_is_one_error_line(env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: nothing accepts
        env["FEEDS_IMPORT_ALLOW_PRIVATE_ADDRESSES"] = "true"
        result = CliRunner().invoke(main, ["import", "feed", f"http://127.0.0.1:{port}/"], env=env)
    assert result.stderr == (
        f"Error: cannot fetch http://127.0.0.1:{port}/: cannot connect to 127.0.0.1 port "
        f"{port}: connection refused\n"
    )
