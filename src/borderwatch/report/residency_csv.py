"""residency.csv: every store's location and verdict, one row each.

The HTML report shows the stores that need attention first and only up to a limit (a
million-row inventory made a 752 MB page); this file keeps every row for the auditor
and for spreadsheets.
"""

from __future__ import annotations

import csv
import io

from borderwatch.model.scan import ResidencyRow, ScanResult

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
# A spreadsheet runs a cell that starts with one of these as a formula: store ids come
# from inventories others write, so such a cell gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _row(row: ResidencyRow) -> list[str]:
    return [
        _cell(row.store_id),
        _cell(row.provider),
        _cell(row.region),
        _cell(row.service),
        row.location_kind,
        ";".join(row.countries),
        _cell(";".join(row.data_classes)),
        "true" if row.protected else "false",
        "" if row.records is None else str(row.records),
        _cell(row.copy_of or ""),
        _cell(" -> ".join(row.copy_path)),
        row.verdict,
    ]


class ResidencyCsvReporter:
    """residency.csv: one row per store (data classes and copy path joined as text)."""

    name = "residency-csv"
    filename = "residency.csv"

    def render(self, result: ScanResult) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(_row(row) for row in result.residency)
        return buffer.getvalue().encode("utf-8")
