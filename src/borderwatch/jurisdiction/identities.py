"""Read the identity directory (CSV or YAML): principal -> person, work country, employer.

CSV columns: principal, person, work_country, employer. YAML: a list under
`identities:` with the same keys. A principal may be an ARN, a user name or an e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.inventory import Identity
from borderwatch.tables import convert
from borderwatch.tables.rows import Row, read_rows


@dataclass
class IdentitiesRead:
    path: str
    identities: list[Identity] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        return len(self.identities) + len(self.quarantined)


def read_identities(path: Path) -> IdentitiesRead:
    """Read one identity directory file; bad rows are quarantined, others kept."""
    result = IdentitiesRead(str(path))
    seen: set[str] = set()
    for row in read_rows(path, "identities"):
        reason = row.error
        identity: Identity | None = None
        if not reason:
            try:
                identity = identity_from_row(row)
            except convert.CellError as exc:
                reason = str(exc)
        if identity is not None and identity.principal in seen:
            reason, identity = f"duplicate principal {identity.principal!r}", None
        if identity is None:
            result.quarantined.append(
                QuarantinedRecord(str(path), row.position, reason, row.excerpt, "identities")
            )
            continue
        seen.add(identity.principal)
        result.identities.append(identity)
    return result


def identity_from_row(row: Row) -> Identity:
    values = row.values
    principal = convert.text(values, "principal", required=True)
    person = convert.text(values, "person", required=True)
    assert principal is not None and person is not None
    return Identity(
        principal=principal,
        person=person,
        work_country=convert.country(values, "work_country"),
        employer=convert.text(values, "employer"),
        origin=f"{row.path}:{row.line}",
    )
