"""Dependency audit: pip-audit on the project's installed dependencies, made to fail loudly
rather than pass having checked nothing.

    python .ci/audit.py check --site-packages .venv/lib/python3.11/site-packages
    python .ci/audit.py refresh PYPA_ADVISORY_DATABASE_CHECKOUT --site-packages …

pip-audit asks a vulnerability service about each installed distribution. Its default
service (PyPI's JSON API, per version) and OSV's API are not reachable from this project's
machines and CI (only the package registries are): pip-audit then reports every dependency
as "could not be audited" and exits 0. So `check`:

1. runs pip-audit against OSV's own API (``-s osv``), and uses its answer if it audited
   every dependency;
2. otherwise runs pip-audit against an OSV-compatible endpoint this script serves on
   127.0.0.1 from .ci/advisories.json: the PyPA advisory database's entries for the
   distributions the project installs (not the whole database), at a commit it names;
3. fails (exit 1) on any known vulnerability, on any distribution pip-audit could not
   audit, and on any installed distribution the snapshot was not taken for (a new
   dependency: refresh the snapshot);
4. says how old the snapshot is: advisories published after it are not seen.

`refresh` rebuilds .ci/advisories.json from a checkout (or bare clone) of
github.com/pypa/advisory-database, for the distributions installed in the given
site-packages; it needs PyYAML in the interpreter that runs it. The advisories are the
PyPA advisory database's (CC-BY 4.0), copied unchanged for those distributions.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "advisories.json"
PROJECT = "feeds"  # the project itself: installed editable, not a dependency
LIVE_TIMEOUT = 20


def canonical(name: str) -> str:
    """A distribution name as PyPI and OSV compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(site_packages: Path) -> dict[str, str]:
    """The distributions installed in ``site_packages``: canonical name → version."""
    found = {}
    for metadata in site_packages.glob("*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1)
            for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.startswith(("Name: ", "Version: "))
        )
        if "Name" in fields and "Version" in fields:
            found[canonical(fields["Name"])] = fields["Version"]
    found.pop(PROJECT, None)
    return found


# --- matching, as OSV's API does it ------------------------------------------------------


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def affects(vulnerability: dict[str, Any], name: str, version: str) -> bool:
    """Whether an OSV entry affects ``version`` of ``name``: listed in its versions, or inside
    one of its ECOSYSTEM ranges (introduced ≤ v < fixed, or ≤ last_affected)."""
    wanted = _version(version)
    for affected in vulnerability.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or canonical(package.get("name", "")) != name:
            continue
        listed = {_version(v) for v in affected.get("versions", [])}
        if wanted is not None and wanted in listed:
            return True
        for span in affected.get("ranges", []):
            if span.get("type") == "ECOSYSTEM" and wanted is not None and _in_range(span, wanted):
                return True
    return False


def _in_range(span: dict[str, Any], version: Version) -> bool:
    inside = False
    events = []
    for event in span.get("events", []):
        (kind, text), *_ = event.items()
        point = Version("0") if text == "0" else _version(text)
        if point is not None:
            events.append((point, kind))
    # At equal versions a fix ends a range before an introduction opens the next.
    order = {"fixed": 0, "last_affected": 1, "limit": 2, "introduced": 3}
    for point, kind in sorted(events, key=lambda e: (e[0], order.get(e[1], 9))):
        if kind == "introduced" and version >= point:
            inside = True
        elif (kind == "fixed" and version >= point) or (
            kind == "last_affected" and version > point
        ):
            inside = False
    return inside


class _OsvEndpoint(BaseHTTPRequestHandler):
    """POST /v1/query as OSV's API answers it, from the snapshot's entries."""

    vulnerabilities: list[dict[str, Any]] = []  # noqa: RUF012 (set once before serving)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        query = json.loads(self.rfile.read(length))
        name = canonical(query["package"]["name"])
        version = query["version"]
        vulns = [v for v in self.vulnerabilities if affects(v, name, version)]
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


# --- check -------------------------------------------------------------------------------


def pip_audit(site_packages: Path, osv_url: str | None) -> tuple[int, dict[str, Any] | None, str]:
    """Run pip-audit with OSV (its API, or ``osv_url``); exit code, JSON report, stderr."""
    with tempfile.TemporaryDirectory() as cache:
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--vulnerability-service=osv",
            f"--path={site_packages}",
            "--format=json",
            "--progress-spinner=off",
            f"--cache-dir={cache}",
            f"--timeout={LIVE_TIMEOUT}",
            "--skip-editable",
        ]
        if osv_url is not None:
            command.append(f"--osv-url={osv_url}")
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    return done.returncode, report, done.stderr.strip()


def unaudited(report: dict[str, Any], expected: set[str]) -> list[str]:
    """Distributions pip-audit skipped, or did not report at all."""
    seen = {canonical(d["name"]): d for d in report.get("dependencies", [])}
    missing = [f"{name} (not reported)" for name in sorted(expected - set(seen))]
    skipped = [
        f"{name} ({d['skip_reason']})"
        for name, d in sorted(seen.items())
        if "skip_reason" in d and name != PROJECT
    ]
    return missing + skipped


def found(report: dict[str, Any]) -> list[str]:
    """One line per known vulnerability pip-audit reported."""
    lines = []
    for dependency in report.get("dependencies", []):
        for vulnerability in dependency.get("vulns", []):
            fixes = ", ".join(vulnerability.get("fix_versions", [])) or "no fix"
            lines.append(
                f"{dependency['name']} {dependency['version']}: {vulnerability['id']} "
                f"(fixed in {fixes}) {vulnerability.get('description', '')[:160]}"
            )
    return lines


def check(site_packages: Path) -> int:
    distributions = installed(site_packages)
    if not distributions:
        print(f"audit: no distributions found in {site_packages}", file=sys.stderr)
        return 1
    print(f"audit: {len(distributions)} installed distributions in {site_packages}")

    code, report, stderr = pip_audit(site_packages, None)
    if report is not None and not unaudited(report, set(distributions)):
        print("audit: pip-audit against OSV's API audited every dependency")
        return verdict(code, report)
    if stderr:
        reason = stderr.splitlines()[-1]
    else:
        reason = f"{len(unaudited(report or {}, set(distributions)))} not audited"
    print(f"audit: OSV's API is not usable from here ({reason[:200]})")

    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    taken = datetime.fromisoformat(snapshot["date"])
    age_days = (datetime.now(UTC) - taken).days
    print(
        f"audit: checking against .ci/advisories.json: {snapshot['source']} at "
        f"{snapshot['commit'][:12]} of {taken:%Y-%m-%d} ({age_days} days old; advisories "
        f"published since are NOT seen), {len(snapshot['vulns'])} entries for "
        f"{len(snapshot['packages'])} distributions"
    )
    failures = []
    uncovered = sorted(set(distributions) - set(snapshot["packages"]))
    if uncovered:
        failures.append(
            "installed but not in the snapshot (refresh it, see .ci/audit.py): "
            + ", ".join(f"{name} {distributions[name]}" for name in uncovered)
        )
    _OsvEndpoint.vulnerabilities = snapshot["vulns"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OsvEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/query"
        code, report, stderr = pip_audit(site_packages, url)
    finally:
        server.shutdown()
    if report is None:
        failures.append(f"pip-audit gave no report (exit {code}): {stderr[-500:]}")
    else:
        missed = unaudited(report, set(distributions))
        if missed:
            failures.append("pip-audit could not audit: " + ", ".join(missed))
    for line in failures:
        print(f"audit: FAILED: {line}", file=sys.stderr)
    if report is None:
        return 1
    return verdict(code, report) or (1 if failures else 0)


def verdict(code: int, report: dict[str, Any]) -> int:
    vulnerabilities = found(report)
    audited = len(report.get("dependencies", []))
    for line in vulnerabilities:
        print(f"audit: VULNERABLE: {line}", file=sys.stderr)
    if vulnerabilities or code not in (0, 1):
        count = len(vulnerabilities)
        print(f"audit: FAILED: {count} known vulnerabilities (pip-audit exit {code})")
        return 1
    print(f"audit: {audited} distributions audited, no known vulnerability")
    return 0


# --- refresh -----------------------------------------------------------------------------


def refresh(database: Path, site_packages: Path) -> int:
    import yaml  # only here: a maintainer's step

    git = ["git", f"--git-dir={_git_dir(database)}"]
    commit, date = _git(git, "log", "-1", "--format=%H %cI").split()
    names = set(_git(git, "ls-tree", "--name-only", "HEAD", "vulns/").split())
    distributions = installed(site_packages)
    vulns = []
    for name in sorted(distributions):
        folder = f"vulns/{name}"
        if folder not in names:
            continue
        for path in _git(git, "ls-tree", "-r", "--name-only", "HEAD", folder + "/").split():
            entry = yaml.safe_load(_git(git, "show", f"HEAD:{path}"))
            vulns.append(json.loads(json.dumps(entry, default=_rfc3339)))
    snapshot = {
        "source": "github.com/pypa/advisory-database",
        "license": "CC-BY-4.0 (the PyPA advisory database); entries copied unchanged",
        "commit": commit,
        "date": datetime.fromisoformat(date).astimezone(UTC).isoformat(),
        "packages": sorted(distributions),
        "vulns": vulns,
    }
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"audit: {len(vulns)} entries for {len(distributions)} distributions → {SNAPSHOT}")
    return 0


def _rfc3339(value: object) -> str:
    """YAML's timestamps as OSV writes them (2024-05-01T09:00:00Z)."""
    if isinstance(value, datetime):
        zoned = value if value.tzinfo else value.replace(tzinfo=UTC)
        return zoned.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _git_dir(database: Path) -> Path:
    return database / ".git" if (database / ".git").exists() else database


def _git(git: list[str], *args: str) -> str:
    return subprocess.run([*git, *args], capture_output=True, text=True, check=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "refresh"))
    parser.add_argument("database", nargs="?", type=Path, help="refresh: the PyPA database")
    parser.add_argument("--site-packages", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "refresh":
        if args.database is None:
            parser.error("refresh needs the path of a pypa/advisory-database checkout")
        return refresh(args.database, args.site_packages)
    return check(args.site_packages)


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
