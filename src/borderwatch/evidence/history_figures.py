"""A run's summary figures as the history keeps them: the same numbers summary.json
gives (report/jsonfiles.py), computed from the same ScanResult, so a board report built
from the history agrees with each run's summary."""

from __future__ import annotations

from collections import Counter
from typing import Any

from borderwatch.model.findings import Status
from borderwatch.model.scan import ScanResult

RESIDENCY_VERDICTS = ("approved", "outside", "unknown")


def run_figures(result: ScanResult) -> dict[str, Any]:
    """The figures of one run, JSON-ready."""
    open_by_severity = Counter(f.severity.value for f in result.findings if f.status is Status.OPEN)
    stores: Counter[str] = Counter()
    records: Counter[str] = Counter()
    for row in result.residency:
        if row.protected:
            stores[row.verdict] += 1
            records[row.verdict] += row.records or 0
    return {
        "verdict": result.verdict,
        "failing_findings": len(result.failing()),
        "open_findings_by_severity": dict(sorted(open_by_severity.items())),
        "coverage_open_findings": len(result.coverage_gaps()),
        "findings_total": len(result.findings),
        "events_total": result.events_total,
        "protected_accesses": result.protected_accesses,
        "access_by_country": [c.as_dict() for c in result.access_by_country],
        "stores_by_verdict": {v: stores.get(v, 0) for v in RESIDENCY_VERDICTS},
        "records_by_verdict": {v: records.get(v, 0) for v in RESIDENCY_VERDICTS},
        "legacy_progress": [p.as_dict() for p in result.legacy],
    }
