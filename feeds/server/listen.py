"""Where `feeds serve` listens: the address is resolved and its port tried before either
server starts, so that a busy port or a bad ``--host`` is one ``Error: …`` line, not the
server's traceback (granian's carries a Rust backtrace under RUST_BACKTRACE)."""

from __future__ import annotations

import socket


class CannotListen(Exception):
    """The server cannot listen where it was asked to; the message says where and why."""


def listen_address(host: str, port: int) -> str:
    """The IP address to listen on for ``host`` (an address, or a name resolved here: granian
    takes addresses only), after binding its ``port`` as the servers do; CannotListen if
    the name does not resolve or the bind fails (port in use, address not on this host)."""
    where = f"cannot listen on {host} port {port}"
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError) as error:
        raise CannotListen(f"{where}: {getattr(error, 'strerror', None) or error}") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as both servers bind
        try:
            probe.bind(sockaddr)
        except OSError as error:
            raise CannotListen(f"{where}: {error.strerror or error}") from None
    return str(sockaddr[0])
