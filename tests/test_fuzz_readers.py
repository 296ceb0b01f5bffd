"""A short run of the fuzz harness (bench/fuzz_readers.py): it runs, it counts, no crash.

The full run (every reader, minutes each) and its figures are in bench/README.md; this
checks the harness still works, on the CloudTrail reader (fast path, containers, JSON
lines) and the S3 access log reader (text lines), with a fixed number of inputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

HARNESS = Path(__file__).resolve().parents[1] / "bench" / "fuzz_readers.py"


@pytest.mark.fuzz
def test_a_short_fuzz_run_finds_no_crash(tmp_path: Path) -> None:
    command = [sys.executable, str(HARNESS), "--runs", "150", "--json"]
    command += ["--reader", "cloudtrail", "--reader", "s3-access"]
    command += ["--artifacts", str(tmp_path / "crashes")]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert [r["reader"] for r in results] == ["cloudtrail", "s3-access"]
    for result in results:
        assert result["inputs"] >= 150 and result["crashes"] == 0, result
    assert not list((tmp_path / "crashes").iterdir())
