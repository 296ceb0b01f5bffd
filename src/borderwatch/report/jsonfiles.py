"""Machine-readable outputs: findings.json, summary.json and quarantine.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from borderwatch.model.scan import ScanResult


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


class FindingsJsonReporter:
    """findings.json: a list of findings, open first, by severity."""

    name = "findings-json"
    output = "json"
    filename = "findings.json"

    def render(self, result: ScanResult) -> bytes:
        return _dumps([finding.as_dict() for finding in result.findings])


class SummaryJsonReporter:
    """summary.json: inputs and their accounting, coverage, findings per rule, the verdict."""

    name = "summary-json"
    output = "json"
    # The scan's own record (and the output folder's completeness marker): written
    # whatever --outputs says (report/base.py).
    always = True
    filename = "summary.json"

    def render(self, result: ScanResult) -> bytes:
        by_rule = Counter(f.rule for f in result.findings)
        open_by_rule = Counter(f.rule for f in result.findings if f.status.value == "open")
        by_severity = Counter(f.severity.value for f in result.findings if f.status.value == "open")
        totals = {
            "records_read": sum(i.records_read for i in result.inputs),
            "accepted": sum(i.accepted for i in result.inputs),
            "quarantined": sum(i.quarantined for i in result.inputs),
        }
        return _dumps(
            {
                "verdict": result.verdict,
                "fail_on": result.fail_on.value,
                "failing_findings": len(result.failing()),
                # What the verdict rests on: the window, days with logs per place, and
                # which sources reached each protected store (ingest/coverage.py).
                "coverage": {
                    "complete": not result.coverage_gaps(),
                    "open_findings": len(result.coverage_gaps()),
                    **result.coverage.as_dict(),
                },
                "policy": {
                    "name": result.policy_name,
                    "version": result.policy_version,
                    "sha256": result.policy_sha256,
                },
                "started_at": result.started_at,
                "finished_at": result.finished_at,
                "events_total": result.events_total,
                "protected_accesses": result.protected_accesses,
                "warnings": list(result.warnings),
                "notes": list(result.notes),
                "inputs": [i.as_dict() for i in result.inputs],
                "events_by_format": _by_format(result),
                "totals": totals,
                "findings_total": len(result.findings),
                "findings_by_rule": dict(sorted(by_rule.items())),
                "open_findings_by_rule": dict(sorted(open_by_rule.items())),
                "open_findings_by_severity": dict(sorted(by_severity.items())),
                "access_by_country": [c.as_dict() for c in result.access_by_country],
                "inventory_changes": [vars(c) for c in result.changes],
                "legacy_progress": [p.as_dict() for p in result.legacy],
                "data_versions": result.data_versions,
                # scan --history only: what changed since the previous run.
                **({"history": result.history.as_dict()} if result.history else {}),
            }
        )


def _by_format(result: ScanResult) -> dict[str, dict[str, int]]:
    """Per event reader: files, records read, accepted and quarantined."""
    formats: dict[str, dict[str, int]] = {}
    for item in result.inputs:
        if item.kind != "events":
            continue
        counts = formats.setdefault(
            item.format, {"files": 0, "records_read": 0, "accepted": 0, "quarantined": 0}
        )
        counts["files"] += 1
        counts["records_read"] += item.records_read
        counts["accepted"] += item.accepted
        counts["quarantined"] += item.quarantined
    return dict(sorted(formats.items()))


class QuarantineReporter:
    """quarantine.jsonl: one line per record that could not be read, with where and why."""

    name = "quarantine-jsonl"
    output = "json"
    always = True  # the records not read are never dropped from the outputs
    filename = "quarantine.jsonl"

    def render(self, result: ScanResult) -> bytes:
        lines = [json.dumps(q.as_dict(), ensure_ascii=False) for q in result.quarantined]
        return ("\n".join(lines) + ("\n" if lines else "")).encode()
