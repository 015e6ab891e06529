"""Where a cache hit's time goes: a py-spy raw profile of bench/hit_cost.py, by phase.

    py-spy record --rate 200 --format raw --output /tmp/hit304.txt -- \
        python bench/hit_cost.py --loop 304 --seconds 25
    python bench/hit_phases.py /tmp/hit304.txt

Of the samples inside FeedEndpoint.__call__ (the request, not start-up), it prints the
share of each phase of a feed answer. Phases nest, so shares do not add up to 100.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

REQUEST = "FeedEndpoint.__call__"
PHASES = {
    "FeedSpec.from_url (URL → spec)": "FeedSpec.from_url",
    "FeedService.representation (revision, cache lookup)": "FeedService.representation",
    "representation_answer (negotiation, validators, headers)": "representation_answer",
    "  client_copy_is_current": "client_copy_is_current",
    "  is_resource_modified (werkzeug)": "is_resource_modified (werkzeug/http.py",
    "record_request (metrics, access log)": "record_request",
    "  json + logging": "logging/__init__.py",
    "prometheus_client, anywhere": "prometheus_client/",
    "werkzeug get_path_info": "get_path_info",
}


def request_stacks(profile: Path) -> Iterator[tuple[list[str], int]]:
    """Each folded stack of the file that is inside a request, with its sample count."""
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)", ")", frame) for frame in stack.split(";")]
        if count.isdigit() and any(frame.startswith(REQUEST) for frame in frames):
            yield frames, int(count)


def shares(profile: Path) -> tuple[int, dict[str, float]]:
    """The request samples, and the percentage of them each phase was on the stack."""
    stacks = list(request_stacks(profile))
    total = sum(count for _, count in stacks)
    found = {
        phase: 100 * sum(c for frames, c in stacks if any(marker in f for f in frames)) / total
        for phase, marker in PHASES.items()
    }
    return total, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="py-spy record --format raw output")
    args = parser.parse_args()
    total, found = shares(args.profile)
    print(f"{total} samples inside {REQUEST}")
    for phase, share in found.items():
        print(f"{share:5.1f}%  {phase}")


if __name__ == "__main__":
    main()
