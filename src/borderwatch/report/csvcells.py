"""CSV written so that a spreadsheet shows every cell as the text it is.

RFC 4180 through the `csv` module: fields holding a comma, a double quote, CR or LF are
quoted (a quote doubled), records end in CRLF, the file is UTF-8. Values come from
inventories and logs that others write, and a spreadsheet runs a cell that starts with
`=`, `+`, `-` or `@` as a formula (a tab or CR in front is skipped by some of them before
they look): `=HYPERLINK("http://evil.example","click")` would be a live link,
`=cmd|' /C calc'!A0` a command on old versions. Such a cell gets a leading apostrophe,
which spreadsheets read as "this cell is text" and do not show; a program reading the
file sees the apostrophe and can remove the first one (docs/outputs.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# A cell starting with one of these is prefixed with an apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def cell(value: object) -> str:
    """One value as a CSV cell a spreadsheet opens as text (None is empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return TEXT_MARK + text if text.startswith(FORMULA_START) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A whole CSV file (header first), every cell through `cell`, as UTF-8 bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cell(name) for name in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
