"""Read a CSV/YAML table into typed values, quarantining the rows that cannot be used.

Every reference table (stores, identities, entities, travel) follows the same contract:
a bad row is set aside with its line and reason, the other rows are kept, and the read
is accounted for (records_read = kept + quarantined).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from borderwatch.model.events import QuarantinedRecord
from borderwatch.tables import convert
from borderwatch.tables.rows import Row, read_rows

T = TypeVar("T")


@dataclass
class TableRead(Generic[T]):
    """Values read from one file, and the rows that could not be used."""

    path: str
    kind: str
    items: list[T] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        return len(self.items) + len(self.quarantined)


def read_table(
    path: Path,
    list_key: str,
    kind: str,
    convert_row: Callable[[Row], T],
    conflict: Callable[[T, list[T]], str | None] = lambda _item, _kept: None,
    required: Sequence[str] = (),
) -> TableRead[T]:
    """Convert every row; `conflict` may refuse a row given the rows kept so far.

    A CSV whose header lacks a `required` column is refused whole (InputError).
    """
    result: TableRead[T] = TableRead(str(path), kind)
    for row in read_rows(path, list_key, required):
        reason = row.error
        item: T | None = None
        if not reason:
            try:
                item = convert_row(row)
            except convert.CellError as exc:
                reason = str(exc)
        if item is not None:
            reason = conflict(item, result.items) or ""
            if reason:
                item = None
        if item is None:
            result.quarantined.append(
                QuarantinedRecord(str(path), row.position, reason, row.excerpt, kind)
            )
            continue
        result.items.append(item)
    return result
