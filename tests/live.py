"""Helpers for tests against real servers on 127.0.0.1: free ports, start-up, HTTP calls."""

from __future__ import annotations

import glob
import http.client
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def require_tool(name: str, package: str, *places: str) -> str:
    """The path of the program ``name``: on PATH, else the first of ``places`` that exists
    (another program name, or a path glob such as ``/usr/lib/postgresql/*/bin/initdb``, the
    highest version first). Without it the test fails, naming the Debian package to install
    (.ci/run installs them all)."""
    for place in (name, *places):
        if "/" not in place:
            found = shutil.which(place)
            if found:
                return found
            continue
        matches = sorted(glob.glob(place), key=_version_order, reverse=True)
        if matches:
            return matches[0]
    pytest.fail(f"{name} not found: apt-get install {package}", pytrace=False)


def _version_order(path: str) -> list[int | str]:
    """A sort key under which .../9.6/... comes before .../16/...."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


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


def wait_for_log(log: Path, pattern: str, count: int, timeout: float = 60) -> None:
    """Wait until ``pattern`` occurs ``count`` times in ``log``."""
    deadline = time.monotonic() + timeout
    while len(re.findall(pattern, log.read_text())) < count:
        assert time.monotonic() < deadline, f"no {count}× {pattern!r} in:\n{log.read_text()}"
        time.sleep(0.1)


@contextmanager
def nginx_server(server_block: str, port: int, directory: Path) -> Iterator[None]:
    """A real nginx (one process, files in ``directory``) running ``server_block``, which
    listens on ``port``."""
    binary = require_tool("nginx", "nginx-light", "/usr/sbin/nginx")
    conf = directory / "nginx.conf"
    conf.write_text(
        "daemon off; master_process off; worker_processes 1;\n"
        f"pid {directory}/nginx.pid; error_log {directory}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {directory}/body;"
        f" proxy_temp_path {directory}/proxy; fastcgi_temp_path {directory}/fastcgi;"
        f" uwsgi_temp_path {directory}/uwsgi; scgi_temp_path {directory}/scgi;\n"
        f"{server_block}\n}}\n"
    )
    process = subprocess.Popen([binary, "-p", str(directory), "-c", str(conf)])
    wait_for_port(process, port, directory / "error.log")
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
