"""bench/soak.py for 60 s against the production server: it must pass and print its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, database_url

pytestmark = pytest.mark.process

SECONDS = 60


def test_soak_of_a_minute_answers_no_5xx_serves_parsable_feeds_and_shows_every_new_post(
    tmp_path: Path,
) -> None:
    command = [
        sys.executable,
        str(REPO / "bench" / "soak.py"),
        f"--seconds={SECONDS}",
        "--posts=1000",
        f"--dataset={database_url(tmp_path, 'soak')}",
        "--report-every=10",
    ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=SECONDS + 240, check=False
    )
    output = done.stdout
    assert done.returncode == 0, output + done.stderr
    assert "soak: passed" in output
    # A progress line every 10 s, with the rate and each worker's memory.
    progress = re.findall(
        r"soak: t=\s*\d+s\s+(\d+) req/s .* worker RSS MiB ((?:\d+:\d+ ?)+)", output
    )
    assert len(progress) >= SECONDS // 10, output
    assert all(int(rate) > 0 for rate, _ in progress), output
    assert all(len(workers.split()) >= 1 for _, workers in progress), output
    figures = dict(re.findall(r"^    (.+?)\s{2,}(\d+)$", output, re.MULTILINE))
    assert figures["5xx answers"] == "0"
    assert figures["requests with no answer"] == "0"
    assert figures["unparsable feeds (of 200 parsed)"] == "0", output
    assert figures["publications refused"] == "0"
    published = re.search(r"posts published but not seen in 10 s \(of (\d+)\)", output)
    assert published is not None and int(published.group(1)) >= SECONDS - 5, output
    assert figures[published.group(0)] == "0"
    requests = re.search(r"requests\s+(\d+) \((\d+) req/s", output)
    assert requests is not None and int(requests.group(1)) > 1000, output
    assert re.search(r"^    worker \d+: \d+ → \d+ \(min \d+, max \d+", output, re.MULTILINE)
