"""How long each output format takes to render one scan result, against findings.json.

    .venv/bin/python bench/outputs_render.py --findings 5000

Builds a ScanResult of N access and residency findings (evidence like the demo's), renders
it with every registered reporter (scan --outputs: all of them) and prints the seconds
and bytes of each, and each time as a ratio to findings.json measured in the same run.
Also prints how long importing py-ocsf-models and compliance-trestle takes in a fresh
interpreter (the price of asking for ocsf or oscal). Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from borderwatch import api
from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.model.scan import InputSummary, ResidencyRow, RuleInfo, ScanResult


def _result(count: int) -> ScanResult:
    findings = []
    for n in range(count):
        access = n % 2 == 0
        rule = "access.prohibited-jurisdiction" if access else "residency.store-outside-approved"
        store = f"store-{n % 500}"
        findings.append(
            Finding(
                id=finding_id(rule, store, str(n)),
                rule=rule,
                severity=Severity.CRITICAL if access else Severity.HIGH,
                status=Status.MUTED if n % 10 == 0 else Status.OPEN,
                title="t",
                message=f"user{n} reached {store} 12 time(s) from CN",
                resource=store,
                principal=f"arn:aws:iam::111122223333:user/user{n}" if access else None,
                country="CN" if access else "SG",
                data_classes=("us_user_data",),
                count=12,
                first_seen="2026-11-06T14:08:32Z",
                last_seen="2026-12-05T15:30:08Z",
                evidence={
                    "callers": [f"36.96.{n % 250}.{k}" for k in range(10)],
                    "sample_event_ids": [f"ev-{n}-{k}" for k in range(10)],
                    "confidence": "high",
                }
                if access
                else {"declared_at": f"inventory.csv:{n % 500 + 2}", "provider": "onprem"},
            )
        )
    residency = tuple(
        ResidencyRow(
            f"store-{n}", "aws", "us-east-1", "s3", "region", ("US",), ("us_user_data",), True,
            1000, None, (f"store-{n}",), "approved", origin=f"inventory.csv:{n + 2}",
        )
        for n in range(500)
    )  # fmt: skip
    return ScanResult(
        policy_name="bench",
        policy_version="1",
        policy_sha256="0" * 64,
        started_at="2026-12-06T04:00:00Z",
        finished_at="2026-12-06T04:01:00Z",
        fail_on=Severity.HIGH,
        findings=tuple(findings),
        inputs=(InputSummary("inventory.csv", "inventory", "csv", 500, 500, 0),),
        residency=residency,
        access_by_country=(),
        rules=(
            RuleInfo("access.prohibited-jurisdiction", "t", Severity.CRITICAL, "r", ("ref",)),
            RuleInfo("residency.store-outside-approved", "t", Severity.HIGH, "r", ("ref",)),
        ),
    )


def _import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=5000)
    args = parser.parse_args()
    result = _result(args.findings)
    registry = api.plugins()
    # Warm the lazy imports first, so the table shows rendering, not importing.
    api.rendered_outputs(_result(2), registry, api.outputs_known(registry))
    timings: list[tuple[str, float, int]] = []
    for reporter in registry.reporters:
        started = time.perf_counter()
        data = reporter.render(result)
        timings.append((reporter.filename, time.perf_counter() - started, len(data)))
    baseline = next(t for name, t, _ in timings if name == "findings.json")
    print(f"{args.findings:,} findings, {len(result.residency):,} stores")
    print(f"{'file':32} {'seconds':>8} {'bytes':>12} {'x findings.json':>16}")
    for name, seconds, size in timings:
        print(f"{name:32} {seconds:8.3f} {size:12,} {seconds / baseline:16.1f}")
    for module in (
        "py_ocsf_models.events.findings.detection_finding",
        "trestle.oscal.assessment_results",
    ):
        print(f"import {module}: {_import_seconds(module):.2f} s (fresh interpreter)")


if __name__ == "__main__":
    main()
