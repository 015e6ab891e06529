"""Soak: the production server polled like a feed service is, while a post is published
every second; it must answer no 5xx, serve only parsable feeds, show every new post in its
feeds, and keep its workers' memory flat.

    python bench/soak.py [--seconds 600] [--posts 1000] [--dataset PATH_OR_URL] \
        [--pollers 4] [--rate 1000] [--publish-every 1] [--visible-within 10] [--sample 200]

It loads a seeded dataset (bench/dataset.py: ``--posts`` posts into a new SQLite file under
a temporary directory, or into the empty database of ``--dataset URL``), or serves a copy of
the SQLite file ``--dataset PATH`` or the store at ``--dataset URL``. It starts
``feeds serve --production`` (granian, its default workers and threads, its JSON access
log) on 127.0.0.1 with an admin token, and then for ``--seconds``:

- **pollers** (threads, each on its own keep-alive connection, as aggregators poll;
  ``--rate`` polls a second in all, 0 for as many as the server answers) fetch feeds at
  random from every feed of /feeds.json (site, languages, categories, category × language,
  Atom and RSS) and older pages (rel="next", ``?before=…``): 60 % conditional GETs with the
  ETag they last saw (If-None-Match: 304 when unchanged), 25 % asking for gzip, 15 % plain;
- a **publisher** creates a post through the admin API every ``--publish-every`` seconds, in
  a random language and one or two categories;
- a **watcher** polls each new post's feeds (site, language, category, category × language,
  both formats) until its entry is in all of them, or ``--visible-within`` seconds pass;
- ``--sample`` answers of 200, spread over the run, are parsed with lxml and feedparser
  (bozo must be 0);
- every ``--report-every`` seconds a line: requests/s, answers by class, published, seen,
  and each granian worker's resident memory (VmRSS of the server's child processes).

At the end it prints the figures and exits 1 if any must-be-0 count is not 0: answers of
5xx, requests that got no answer, unparsable feeds, publications refused, posts published
but not seen in their feeds in time. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import feedparser
from harness import HOST, REPO, Server, database_url, feeds_production, running, store_env
from lxml import etree
from memory_bench import local_path, next_page, status_mib

from feeds.settings import Settings
from feeds.store import Store

FORMATS = ("atom", "rss")
# The share of each kind of poll: a conditional GET, a GET asking for gzip, a plain GET.
POLL_MIX = (("conditional", 0.60), ("gzip", 0.25), ("plain", 0.15))
OLDER_PAGE_FEEDS = 40  # feeds whose older pages are polled too
OLDER_PAGES = 2  # pages after the first, for each of those
SEED = 7


@dataclass
class Figures:
    """What the run counts; every field is written under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0
    unanswered_examples: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    parsed: int = 0
    unparsable: list[str] = field(default_factory=list)
    published: int = 0
    publish_refused: list[str] = field(default_factory=list)
    seen_after: list[float] = field(default_factory=list)
    never_seen: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def answered(
        self, status: int, kind: str, what: str, body: bytes, seconds: float | None = None
    ) -> None:
        """Count an answer; ``seconds`` is the latency of a poll."""
        with self.lock:
            self.answers[status] += 1
            self.kinds[kind] += 1
            if seconds is not None and len(self.latencies) < 1_000_000:
                self.latencies.append(seconds)
            if status >= 500:
                self.server_errors.append(f"{status} {what}: {body[:200]!r}")

    def no_answer(self, what: str, error: Exception) -> None:
        with self.lock:
            self.unanswered += 1
            if len(self.unanswered_examples) < 5:
                self.unanswered_examples.append(f"{what}: {error!r}")

    def total(self) -> int:
        with self.lock:
            return sum(self.answers.values())


class Connection:
    """A keep-alive HTTP/1.1 connection to the server, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.http: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            if self.http is None:
                self.http = http.client.HTTPConnection(HOST, self.port, timeout=30)
            try:
                self.http.request(method, path, body=body, headers=dict(headers))
                response = self.http.getresponse()
                data = response.read()
                answer = {k.lower(): v for k, v in response.getheaders()}
                if answer.get("connection", "").lower() == "close":
                    self.close()
                return response.status, answer, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: one retry on a new
                # connection, as every HTTP client does; a second failure is an error.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None


def parse_problem(body: bytes, encoding: str | None) -> str | None:
    """Why a feed answer does not parse (lxml, then feedparser's bozo; a JSON Feed: json,
    then its version and items), or None."""
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        if body.lstrip().startswith(b"{"):
            document = json.loads(body)
            if not str(document.get("version", "")).startswith("https://jsonfeed.org/version/"):
                return "JSON Feed without its version"
            return None if isinstance(document.get("items"), list) else "JSON Feed without items"
        etree.fromstring(body)
    except (OSError, EOFError, ValueError, etree.XMLSyntaxError) as error:
        return f"{type(error).__name__}: {error}"
    parsed = feedparser.parse(body)
    if parsed.bozo:
        return f"feedparser bozo: {parsed.get('bozo_exception')!r}"
    return None


class Sampler:
    """Takes ``wanted`` answers of 200 to parse, spread evenly over ``seconds``."""

    def __init__(self, wanted: int, seconds: float, figures: Figures) -> None:
        self.wanted = wanted
        self.interval = seconds / max(wanted, 1)
        self.figures = figures
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def offer(self, what: str, body: bytes, encoding: str | None) -> None:
        with self.lock:
            if self.figures.parsed >= self.wanted or time.monotonic() < self.next_at:
                return
            self.next_at += self.interval
            self.figures.parsed += 1  # counted now, so that no other thread takes it
        problem = parse_problem(body, encoding)
        if problem is not None:
            with self.figures.lock:
                self.figures.unparsable.append(f"{what}: {problem}")

    def finish(self, paths: list[str], port: int) -> None:
        """Parse what the run did not reach (a short run, few 200s): fresh GETs."""
        connection = Connection(port)
        for path in random.Random(SEED).sample(paths, len(paths)):
            if self.figures.parsed >= self.wanted:
                break
            status, headers, body = connection.request("GET", path, {})
            self.figures.answered(status, "sample", f"GET {path}", body)
            if status == 200:
                self.next_at = 0
                self.offer(f"GET {path}", body, headers.get("content-encoding"))
        connection.close()


def poll(
    port: int,
    paths: list[str],
    figures: Figures,
    sampler: Sampler,
    stop: threading.Event,
    number: int,
    interval: float,
) -> None:
    """One poller: random feeds, the POLL_MIX of conditional, gzip and plain GETs, one every
    ``interval`` seconds at most (0: as fast as answers come)."""
    rng = random.Random(SEED * 1000 + number)
    etags: dict[str, str] = {}
    connection = Connection(port)
    kinds, weights = zip(*POLL_MIX, strict=True)
    next_at = time.monotonic()
    while not stop.wait(max(0.0, next_at - time.monotonic())):
        next_at = max(next_at + interval, time.monotonic() - 1)  # no burst after a stall
        path = rng.choice(paths)
        kind = rng.choices(kinds, weights)[0]
        headers = {"Accept-Encoding": "gzip"} if kind == "gzip" else {}
        if kind == "conditional" and path in etags:
            headers["If-None-Match"] = etags[path]
        started = time.perf_counter()
        try:
            status, answer, body = connection.request("GET", path, headers)
        except (OSError, http.client.HTTPException) as error:
            figures.no_answer(f"GET {path}", error)
            connection.close()
            continue
        figures.answered(status, kind, f"GET {path}", body, time.perf_counter() - started)
        if status == 200:
            if "etag" in answer:
                etags[path] = answer["etag"]
            sampler.offer(f"GET {path} ({kind})", body, answer.get("content-encoding"))
    connection.close()


@dataclass
class Publication:
    """A post the API acknowledged, and the feeds it must appear in."""

    entry_id: str
    acknowledged: float
    waiting: set[str]


def publish(
    port: int,
    token: str,
    languages: list[str],
    categories: list[str],
    every: float,
    figures: Figures,
    published: list[Publication],
    stop: threading.Event,
) -> None:
    """Create a post through the admin API every ``every`` seconds."""
    rng = random.Random(SEED)
    connection = Connection(port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    number = 0
    next_at = time.monotonic()
    while not stop.wait(max(0.0, next_at - time.monotonic())):
        next_at += every
        number += 1
        language = rng.choice(languages)
        chosen = rng.sample(categories, rng.choice((1, 2)))
        document = {
            "title": f"Soak post {number}",
            "language": language,
            "summary": f"Published by the soak, number {number}.",
            "content_html": f"<p>Soak post <b>{number}</b>.</p>",
            "categories": chosen,
            "authors": ["Soak"],
        }
        body = json.dumps(document).encode()
        try:
            status, _, answer = connection.request("POST", "/api/posts", headers, body)
        except (OSError, http.client.HTTPException) as error:
            figures.no_answer("POST /api/posts", error)
            connection.close()
            continue
        figures.answered(status, "publish", "POST /api/posts", answer)
        if status != 201:
            with figures.lock:
                figures.publish_refused.append(f"{status}: {answer[:200]!r}")
            continue
        post = json.loads(answer)
        waiting = {
            f"{scope}.{fmt}"
            for scope in post_scopes(post["language"], [c["slug"] for c in post["categories"]])
            for fmt in FORMATS
        }
        with figures.lock:
            figures.published += 1
            published.append(Publication(post["entry_id"], time.monotonic(), waiting))
    connection.close()


def post_scopes(language: str, categories: list[str]) -> list[str]:
    """The feeds (without their extension) that hold a post of ``language`` in ``categories``."""
    scopes = ["/feeds/all", f"/{language}/feeds/all"]
    for slug in categories:
        scopes += [f"/feeds/category/{quote(slug)}", f"/{language}/feeds/category/{quote(slug)}"]
    return scopes


def watch(
    port: int,
    figures: Figures,
    published: list[Publication],
    within: float,
    stop: threading.Event,
) -> None:
    """Follow each new post until its entry is in every feed that holds it, or time is up.
    After ``stop``, it keeps going until every post is seen or past its bound."""
    connection = Connection(port)
    pending: list[Publication] = []
    taken = 0
    while True:
        with figures.lock:
            pending += published[taken:]
            taken = len(published)
        if stop.is_set() and not pending:
            break
        for publication in list(pending):
            for path in sorted(publication.waiting):
                try:
                    status, _, body = connection.request("GET", path, {})
                except (OSError, http.client.HTTPException) as error:
                    figures.no_answer(f"GET {path}", error)
                    connection.close()
                    continue
                figures.answered(status, "watch", f"GET {path}", body)
                if status == 200 and publication.entry_id.encode() in body:
                    publication.waiting.discard(path)
            elapsed = time.monotonic() - publication.acknowledged
            if not publication.waiting:
                pending.remove(publication)
                with figures.lock:
                    figures.seen_after.append(elapsed)
            elif elapsed > within:
                pending.remove(publication)
                with figures.lock:
                    figures.never_seen.append(
                        f"{publication.entry_id}: not in {sorted(publication.waiting)} "
                        f"after {within:g} s"
                    )
        time.sleep(0.1)
    connection.close()


def feed_paths(server: Server) -> list[str]:
    """Every feed of /feeds.json, and older pages of some of them."""
    connection = Connection(server.port)
    status, _, body = connection.request("GET", "/feeds.json", {})
    if status != 200:
        raise SystemExit(f"/feeds.json answered {status}")
    paths = [local_path(feed["url"]) for feed in json.loads(body)["feeds"]]
    older = []
    for path in random.Random(SEED).sample(paths, min(OLDER_PAGE_FEEDS, len(paths))):
        page: str | None = path
        for _ in range(OLDER_PAGES):
            assert page is not None
            status, _, body = connection.request("GET", page, {})
            page = next_page(body) if status == 200 else None
            if page is None:
                break
            older.append(page)
    connection.close()
    return paths + older


def worker_memory(server: Server) -> dict[int, float]:
    """Each granian worker's resident memory now, MiB (workers that just ended are left out)."""
    memory = {}
    for pid in server.worker_pids():
        try:
            memory[pid] = status_mib(pid, "VmRSS")
        except (OSError, LookupError):
            continue
    return memory


def load_dataset(args: argparse.Namespace, directory: Path) -> str:
    """The database URL to serve: a copy of a SQLite file, a database URL as it is, or (no
    --dataset, or a URL of an empty database) a new dataset of --posts posts."""
    given = args.dataset
    if given is not None and "://" not in given:
        copy = directory / "soak.db"
        shutil.copyfile(given, copy)
        return database_url(copy)
    url = given or database_url(directory / "soak.db")
    probe = Store(url)
    try:
        if probe.schema_revision() is not None:
            return url
    finally:
        probe.dispose()
    from dataset import build  # bench/dataset.py

    started = time.perf_counter()
    build(url, args.posts, SEED, Settings.load(REPO / "config.toml", environ={}))
    print(f"soak: dataset of {args.posts} posts in {time.perf_counter() - started:.1f} s")
    return url


def dataset_terms(url: str) -> tuple[list[str], list[str]]:
    """The configured languages and the dataset's category slugs."""
    from sqlalchemy import select

    from feeds.store.models import Category

    store = Store(url)
    try:
        with store.session() as session:
            categories = list(session.scalars(select(Category.slug).order_by(Category.slug)))
    finally:
        store.dispose()
    languages = list(Settings.load(REPO / "config.toml", environ={}).languages)
    return languages, categories


def report_line(
    elapsed: float, figures: Figures, previous: int, interval: float, memory: dict[int, float]
) -> str:
    with figures.lock:
        answers = dict(figures.answers)
        published, seen = figures.published, len(figures.seen_after)
        never, unparsable, unanswered = (
            len(figures.never_seen),
            len(figures.unparsable),
            figures.unanswered,
        )
    total = sum(answers.values())
    classes: Counter[str] = Counter()
    for status, count in answers.items():
        classes["304" if status == 304 else f"{status // 100}xx"] += count
    rss = " ".join(f"{pid}:{mib:.0f}" for pid, mib in sorted(memory.items()))
    return (
        f"soak: t={elapsed:5.0f}s {(total - previous) / interval:7.0f} req/s | "
        + " ".join(f"{name} {count}" for name, count in sorted(classes.items()))
        + f" | no answer {unanswered} | published {published} seen {seen} never {never}"
        + f" | unparsable {unparsable} | worker RSS MiB {rss}"
    )


def run(args: argparse.Namespace) -> int:
    token = secrets.token_urlsafe(24)
    figures = Figures()
    directory = Path(tempfile.mkdtemp(prefix="feeds-soak-"))
    try:
        url = load_dataset(args, directory)
        languages, categories = dataset_terms(url)
        env = store_env(url, FEEDS_ADMIN_TOKEN=token)
        spec = feeds_production("soak", env)
        with running(spec, "/healthz", directory / "logs") as server:
            return drive(args, server, figures, languages, categories)
    finally:
        if args.keep:
            print(f"soak: kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def drive(
    args: argparse.Namespace,
    server: Server,
    figures: Figures,
    languages: list[str],
    categories: list[str],
) -> int:
    paths = feed_paths(server)
    rate = f"at most {args.rate:g} polls/s" if args.rate > 0 else "unthrottled"
    print(
        f"soak: {len(paths)} feed URLs (every feed of /feeds.json, older pages of "
        f"{OLDER_PAGE_FEEDS}), {args.pollers} pollers ({rate}), a post every "
        f"{args.publish_every:g} s, {args.seconds:g} s, workers {sorted(server.worker_pids())}",
        flush=True,
    )
    stop = threading.Event()
    sampler = Sampler(args.sample, args.seconds, figures)
    published: list[Publication] = []
    interval = args.pollers / args.rate if args.rate > 0 else 0.0
    threads = [
        threading.Thread(
            target=poll, args=(server.port, paths, figures, sampler, stop, n, interval)
        )
        for n in range(args.pollers)
    ]
    threads.append(
        threading.Thread(
            target=publish,
            args=(
                server.port,
                server.spec.env["FEEDS_ADMIN_TOKEN"],
                languages,
                categories,
                args.publish_every,
                figures,
                published,
                stop,
            ),
        )
    )
    watcher_stop = threading.Event()
    watcher = threading.Thread(
        target=watch, args=(server.port, figures, published, args.visible_within, watcher_stop)
    )
    memory_series = {pid: [(0.0, mib)] for pid, mib in worker_memory(server).items()}
    started = time.monotonic()
    for thread in [*threads, watcher]:
        thread.start()
    previous, last = 0, started
    try:
        while (elapsed := time.monotonic() - started) < args.seconds:
            time.sleep(min(args.report_every, max(0.0, args.seconds - elapsed)))
            now = time.monotonic()
            memory = worker_memory(server)
            for pid, mib in memory.items():
                memory_series.setdefault(pid, []).append((now - started, mib))
            total = figures.total()
            print(report_line(now - started, figures, previous, now - last, memory), flush=True)
            previous, last = total, now
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        polled_seconds = time.monotonic() - started
        watcher_stop.set()  # the watcher finishes the posts still in their bound
        watcher.join(timeout=args.visible_within + 60)
    sampler.finish(paths, server.port)
    return summary(args, figures, polled_seconds, memory_series)


def summary(
    args: argparse.Namespace,
    figures: Figures,
    seconds: float,
    memory_series: dict[int, list[tuple[float, float]]],
) -> int:
    with figures.lock:
        total = sum(figures.answers.values())
        polls = sum(figures.kinds[kind] for kind, _ in POLL_MIX)
        lines = [
            "soak: summary",
            f"  duration                 {seconds:.0f} s",
            f"  requests                 {total} ({total / seconds:.0f} req/s; polls "
            f"{polls / seconds:.0f} req/s: "
            + ", ".join(f"{kind} {figures.kinds[kind]}" for kind, _ in POLL_MIX)
            + ")",
            "  answers                  "
            + ", ".join(f"{status} {count}" for status, count in sorted(figures.answers.items())),
        ]
        if figures.latencies:
            milliseconds = [seconds * 1000 for seconds in figures.latencies]
            p99 = statistics.quantiles(milliseconds, n=100)[98]
            lines.append(
                f"  poll latency             median {statistics.median(milliseconds):.1f} ms, "
                f"p99 {p99:.1f} ms, max {max(milliseconds):.0f} ms"
            )
        seen = figures.seen_after
        if seen:
            lines.append(
                f"  new post in all its feeds median {statistics.median(seen):.2f} s, "
                f"max {max(seen):.2f} s (bound {args.visible_within:g} s)"
            )
        lines.append("  worker RSS MiB (first → last, min–max, over the run):")
        for pid, series in sorted(memory_series.items()):
            values = [mib for _, mib in series]
            lines.append(
                f"    worker {pid}: {values[0]:.0f} → {values[-1]:.0f} "
                f"(min {min(values):.0f}, max {max(values):.0f}, {len(values)} readings)"
            )
        checks: list[tuple[str, int, list[str]]] = [
            ("5xx answers", len(figures.server_errors), figures.server_errors),
            ("requests with no answer", figures.unanswered, figures.unanswered_examples),
            (
                f"unparsable feeds (of {figures.parsed} parsed)",
                len(figures.unparsable),
                figures.unparsable,
            ),
            ("publications refused", len(figures.publish_refused), figures.publish_refused),
            (
                f"posts published but not seen in {args.visible_within:g} s "
                f"(of {figures.published})",
                len(figures.never_seen),
                figures.never_seen,
            ),
        ]
    failed = False
    lines.append("  must be 0:")
    for name, count, examples in checks:
        lines.append(f"    {name:<52} {count}")
        failed |= count != 0
        lines += [f"      e.g. {example}" for example in examples[:5]]
    print("\n".join(lines), flush=True)
    print("soak: FAILED" if failed else "soak: passed", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="how long to poll")
    parser.add_argument("--posts", type=int, default=1000, help="posts of a new dataset")
    parser.add_argument(
        "--dataset",
        help="a SQLite file (a copy is served), or a database URL (written to; an empty "
        "database gets a new dataset of --posts posts)",
    )
    parser.add_argument("--pollers", type=int, default=4, help="polling threads")
    parser.add_argument(
        "--rate", type=float, default=1000, help="polls per second, all pollers (0: unthrottled)"
    )
    parser.add_argument("--publish-every", type=float, default=1.0, help="seconds")
    parser.add_argument(
        "--visible-within", type=float, default=10.0, help="seconds a new post may take"
    )
    parser.add_argument("--sample", type=int, default=200, help="200 answers to parse")
    parser.add_argument("--report-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--keep", action="store_true", help="keep the dataset and server log")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
