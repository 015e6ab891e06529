"""CPU per cache hit in process, the way a worker of ``feeds serve --production`` runs it.

    FEEDS_CONFIG=config.toml FEEDS_DATABASE_URL=sqlite:////tmp/feeds-1k.db \
        python bench/hit_cost_production.py [--path /feeds/category/blog-posts.atom] 2>/dev/null

bench/hit_cost.py times feeds' callable as the tests build it: no logging configured (so no
access line is made) and prometheus_client in its single-process mode. Here the app is the
production worker's (``create_worker_app``), with the production logging config, metrics in
multiprocess mode (a temporary PROMETHEUS_MULTIPROC_DIR) and the access line on unless
FEEDS_ACCESS_LOG=false; send stderr, where the lines go, to /dev/null. It prints the CPU
time of the whole process (request thread and flusher thread) per 200, 304 and gzip
answer, in µs: median of 5 rounds of 20,000, each round ending once the queued lines are out.
"""

from __future__ import annotations

import argparse
import logging.config
import os
import statistics
import tempfile
import time

from hit_cost import call, environ, kinds

ROUNDS, CALLS = 5, 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/feeds/category/blog-posts.atom")
    args = parser.parse_args()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hit-cost-metrics-")
    from feeds.server import production  # after the variable: it picks prometheus' mode

    logging.config.dictConfig(production.LOGGING)
    app = production.create_worker_app()
    etag = call(app, environ(args.path, {}))["ETag"]
    costs = {}
    for kind, headers in kinds(etag).items():
        env = environ(args.path, headers)
        rounds = []
        for _ in range(ROUNDS):
            started = time.process_time()
            for _ in range(CALLS):
                call(app, env)
            time.sleep(0.1)  # the flusher writes what is queued (CPU time only counts)
            rounds.append((time.process_time() - started) / CALLS * 1e6)
        costs[kind] = statistics.median(rounds)
    print(" | ".join(f"{kind} {cost:.1f} µs" for kind, cost in costs.items()), flush=True)


if __name__ == "__main__":
    main()
