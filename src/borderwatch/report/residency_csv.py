"""residency.csv: every store's location and verdict, one row each.

The HTML report shows the stores that need attention first and only up to a limit (a
million-row inventory made a 752 MB page); this file keeps every row for the auditor
and for spreadsheets. Every cell goes through report.csvcells (RFC 4180, formulas
neutralised): store ids, regions and site countries come from inventories others write.
"""

from __future__ import annotations

from borderwatch.model.scan import ResidencyRow, ScanResult
from borderwatch.report.csvcells import write_csv

COLUMNS = (
    "store_id",
    "provider",
    "region",
    "service",
    "location_kind",
    "countries",
    "data_classes",
    "protected",
    "records",
    "copy_of",
    "copy_path",
    "verdict",
)


def _row(row: ResidencyRow) -> list[object]:
    return [
        row.store_id,
        row.provider,
        row.region,
        row.service,
        row.location_kind,
        ";".join(row.countries),
        ";".join(row.data_classes),
        row.protected,
        row.records,
        row.copy_of,
        " -> ".join(row.copy_path),
        row.verdict,
    ]


class ResidencyCsvReporter:
    """residency.csv: one row per store (data classes and copy path joined as text)."""

    name = "residency-csv"
    output = "csv"
    filename = "residency.csv"

    def render(self, result: ScanResult) -> bytes:
        return write_csv(COLUMNS, (_row(row) for row in result.residency))
