"""findings.csv: every finding, one row each, for spreadsheets and ticket imports.

The columns are stable (new ones are added at the end, never renamed or reordered;
docs/outputs.md lists them). Lists are joined with ';', the evidence is one compact JSON
text. With `scan --history`, three more columns say where each finding stands (new,
open, reopened, resolved) and since when, and the findings resolved since the previous
run are rows of status `resolved`. Every cell goes through report.csvcells: RFC 4180,
and a cell a spreadsheet would run as a formula (a principal named `=HYPERLINK(...)` in a
log) starts with an apostrophe.
"""

from __future__ import annotations

import json

from borderwatch.model.findings import Finding
from borderwatch.model.history import TrackedFinding
from borderwatch.model.scan import ScanResult
from borderwatch.report import filelines, history_marks
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
    # scan --history only (empty without): new, open, reopened or resolved, and since when.
    "history_status",
    "history_first_day",
    "history_age_days",
)


def _location(place: filelines.FileLine, root: str) -> str:
    if not place.path:
        return ""
    path = filelines.shown_path(place.path, root)
    return f"{path}:{place.line}" if place.line else path


def _row(
    finding: Finding, place: filelines.FileLine, root: str, tracked: TrackedFinding | None
) -> list[object]:
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
        tracked.status.value if tracked else None,
        tracked.first_day if tracked else None,
        tracked.age_days if tracked else None,
    ]


class FindingsCsvReporter:
    """findings.csv: one row per finding (open, muted and resolved), stable columns; with
    a history, the findings resolved since the previous run too (history_marks.py)."""

    name = "findings-csv"
    output = "csv"
    filename = "findings.csv"

    def render(self, result: ScanResult) -> bytes:
        origins = filelines.store_origins(result)
        fallback = filelines.first_inventory(result)
        tracked = history_marks.marks(result)
        rows = (
            _row(f, filelines.locate(f, origins, fallback), result.scan_root, tracked.get(f.id))
            for f in history_marks.with_resolved(result)
        )
        return write_csv(COLUMNS, rows)
