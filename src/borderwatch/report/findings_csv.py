"""findings.csv: every finding, one row each, for spreadsheets and ticket imports.

The columns are stable (new ones are added at the end, never renamed or reordered;
docs/outputs.md lists them). Lists are joined with ';', the evidence is one compact JSON
text. Every cell goes through report.csvcells: RFC 4180, and a cell a spreadsheet would
run as a formula (a principal named `=HYPERLINK(...)` in a log) starts with an apostrophe.
"""

from __future__ import annotations

import json

from borderwatch.model.findings import Finding
from borderwatch.model.scan import ScanResult
from borderwatch.report import filelines
from borderwatch.report.csvcells import write_csv

COLUMNS = (
    "id",
    "rule",
    "severity",
    "status",
    "title",
    "message",
    "resource",
    "principal",
    "person",
    "country",
    "data_classes",
    "count",
    "first_seen",
    "last_seen",
    "location",
    "location_kind",
    "exception_id",
    "exception_approver",
    "exception_ticket",
    "exception_expires",
    "exception_reason",
    "evidence",
)


def _location(place: filelines.FileLine, root: str) -> str:
    if not place.path:
        return ""
    path = filelines.shown_path(place.path, root)
    return f"{path}:{place.line}" if place.line else path


def _row(finding: Finding, place: filelines.FileLine, root: str) -> list[object]:
    exc = finding.exception
    return [
        finding.id,
        finding.rule,
        finding.severity.value,
        finding.status.value,
        finding.title,
        finding.message,
        finding.resource,
        finding.principal,
        finding.person,
        finding.country,
        ";".join(finding.data_classes),
        finding.count,
        finding.first_seen,
        finding.last_seen,
        _location(place, root),
        place.kind,
        exc.id if exc else None,
        exc.approver if exc else None,
        exc.ticket if exc else None,
        exc.expires if exc else None,
        exc.reason if exc else None,
        json.dumps(finding.evidence, ensure_ascii=False, sort_keys=True, default=str),
    ]


class FindingsCsvReporter:
    """findings.csv: one row per finding (open, muted and resolved), stable columns."""

    name = "findings-csv"
    output = "csv"
    filename = "findings.csv"

    def render(self, result: ScanResult) -> bytes:
        origins = filelines.store_origins(result)
        fallback = filelines.first_inventory(result)
        rows = (
            _row(f, filelines.locate(f, origins, fallback), result.scan_root)
            for f in result.findings
        )
        return write_csv(COLUMNS, rows)
