"""What `scan --history` adds to a scan: comparing a run with the history and recording
it, for a run of N findings on top of R earlier runs, against writing the same findings
as findings.json (the cost every scan already pays), measured in the same run.

    .venv/bin/python bench/history_runs.py --findings 50000 --runs 8
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import tempfile
import time
from pathlib import Path

from borderwatch.evidence.history import compare_run, record_run
from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.model.scan import ScanResult
from borderwatch.report.jsonfiles import FindingsJsonReporter


def findings(count: int, week: int) -> list[Finding]:
    """`count` findings; each week a tenth of them are replaced by new ones."""
    shift = week * count // 10
    return [
        Finding(
            id=finding_id("access.prohibited-jurisdiction", f"store-{i}"),
            rule="access.prohibited-jurisdiction",
            severity=Severity.CRITICAL,
            status=Status.OPEN,
            title="Access from a prohibited jurisdiction",
            message=f"store-{i} was read from CN",
            resource=f"store-{i}",
            principal=f"arn:aws:iam::1:user/u{i % 977}",
            country="CN",
            first_seen="2026-03-01T00:00:00Z",
        )
        for i in range(shift, shift + count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="history-bench-") as folder:
        history = Path(folder) / "history"
        day = dt.date(2026, 1, 4)
        for week in range(args.runs + 1):
            found = findings(args.findings, week)
            result = ScanResult(
                policy_name="p",
                policy_version="1",
                policy_sha256="0",
                started_at="",
                finished_at="",
                fail_on=Severity.HIGH,
                findings=tuple(found),
                inputs=(),
                residency=(),
                access_by_country=(),
            )
            start = time.perf_counter()
            changes = compare_run(history, found, (), day + dt.timedelta(days=7 * week))
            compared = time.perf_counter() - start
            result = dataclasses.replace(result, history=changes)
            start = time.perf_counter()
            record_run(history, result)
            recorded = time.perf_counter() - start
            start = time.perf_counter()
            FindingsJsonReporter().render(result)
            baseline = time.perf_counter() - start
            counts = changes.counts()
            print(
                f"run {week + 1:2}: {args.findings:,} findings on {week} earlier run(s): "
                f"compare {compared:6.2f} s, record {recorded:6.2f} s, findings.json "
                f"{baseline:5.2f} s, ratio {(compared + recorded) / baseline:5.1f}x  "
                f"(new {counts['new']:,}, open {counts['open']:,}, "
                f"resolved {counts['resolved']:,})"
            )
        size = (history / "history.duckdb").stat().st_size
        print(f"history.duckdb after {args.runs + 1} runs: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
