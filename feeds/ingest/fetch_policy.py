"""Which URLs and addresses an import may fetch: http and https URLs with a host, and public
addresses unless ``import_allow_private_addresses`` (feeds.ingest.fetch applies it)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

# Kept as they are when a path and query are made ASCII for the request line.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
# The address classes refused unless import_allow_private_addresses, as ipaddress names them.
_REFUSED_KINDS = ("unspecified", "loopback", "link-local", "multicast", "reserved", "private")


class UnfetchableURL(ValueError):
    """The URL cannot be fetched at all; the message says why."""


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
class Target:
    """One hop's URL, split as the connection needs it."""

    scheme: str
    host: str  # ASCII: an IP literal or an IDNA host name
    port: int
    path: str  # path and query, ASCII, as the request line carries them


def fetch_target(url: str) -> Target:
    """``url`` split for its connection and request line; UnfetchableURL unless it is http
    or https with a host and a valid port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnfetchableURL("only http and https URLs can be imported")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnfetchableURL("the port is not a number from 0 to 65535") from None
    host = parts.hostname or ""
    if not host:
        raise UnfetchableURL("the URL has no host")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnfetchableURL(f"{host!r} is not a valid host name") from None
    path = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_URL_SAFE)
    return Target(scheme, host, port, path)
