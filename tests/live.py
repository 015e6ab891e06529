"""Helpers for tests against real servers on 127.0.0.1: free ports, start-up, HTTP calls."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(
    process: subprocess.Popen[bytes], port: int, log: Path | None = None, timeout: float = 30
) -> None:
    """Wait until ``process`` listens on ``port``; if it dies or times out first, fail with
    what it wrote (its ``log`` file, else its stderr)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                if log is not None:
                    raise RuntimeError(log.read_text()) from None
                raise RuntimeError(
                    process.stderr.read().decode() if process.stderr else ""
                ) from None
            time.sleep(0.05)


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request on a new connection, as a poller without keep-alive makes it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def api_call(
    port: int, token: str, method: str, path: str, document: dict[str, Any] | None = None
) -> tuple[int, bytes]:
    """An admin API call with a bearer token and a JSON body; its status and body."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(document).encode() if document is not None else None
    response, data = request(port, method, path, headers, body)
    return response.status, data
