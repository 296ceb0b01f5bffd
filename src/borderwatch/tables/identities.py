"""Read the identity directory (CSV or YAML): principal -> person, where, for whom, when.

CSV columns: principal, person, work_country, employer; optional: resident_country,
relationship (employee, contractor, ...), valid_from, valid_to (ISO dates, inclusive).
YAML: a list under `identities:` with the same keys. A principal may be an ARN, a user
name or an e-mail. A principal may appear on several rows whose validity windows do not
overlap: a person who moved is judged by where they were on the day of each event.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from borderwatch.model.inventory import Identity
from borderwatch.tables import convert
from borderwatch.tables.records import TableRead, read_table
from borderwatch.tables.rows import Row

IdentitiesRead = TableRead[Identity]


def read_identities(path: Path) -> IdentitiesRead:
    """Read one identity directory file; bad rows are quarantined, others kept."""
    return read_table(
        path, "identities", "identities", identity_from_row, _overlap, ("principal", "person")
    )


def identity_from_row(row: Row) -> Identity:
    values = row.values
    principal = convert.text(values, "principal", required=True)
    person = convert.text(values, "person", required=True)
    assert principal is not None and person is not None
    identity = Identity(
        principal=principal,
        person=person,
        work_country=convert.country(values, "work_country"),
        employer=convert.text(values, "employer"),
        resident_country=convert.country(values, "resident_country"),
        relationship=convert.text(values, "relationship"),
        valid_from=convert.date(values, "valid_from"),
        valid_to=convert.date(values, "valid_to"),
        origin=f"{row.path}:{row.line}",
    )
    if identity.valid_from and identity.valid_to and identity.valid_from > identity.valid_to:
        raise convert.CellError("'valid_from' is after 'valid_to'")
    return identity


def _overlap(identity: Identity, kept: list[Identity]) -> str | None:
    for other in kept:
        if other.principal == identity.principal and _windows_overlap(identity, other):
            if other.valid_from is None and other.valid_to is None:
                return f"duplicate principal {identity.principal!r}"
            return (
                f"principal {identity.principal!r} already has a row valid on some of these "
                f"days ({other.origin})"
            )
    return None


def _windows_overlap(a: Identity, b: Identity) -> bool:
    start = max(a.valid_from or dt.date.min, b.valid_from or dt.date.min)
    end = min(a.valid_to or dt.date.max, b.valid_to or dt.date.max)
    return start <= end
