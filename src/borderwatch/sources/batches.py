"""Collect normalised rows into Arrow batches of the canonical event schema.

Readers hand over plain dicts of canonical columns; this turns them into columns once
per batch, so per-record work stays in the reader and per-column work in Arrow.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from borderwatch.model.events import EVENT_SCHEMA, QuarantinedRecord, excerpt_of
from borderwatch.sources.base import SourceBatch
from borderwatch.sources.names import display_name

# Columns the builder fills itself, in every schema it builds.
_PROVENANCE = ("source_format", "input_path", "input_record")


def reader_columns(schema: pa.Schema) -> tuple[str, ...]:
    """The columns of `schema` a reader fills (the builder adds the provenance ones)."""
    return tuple(name for name in schema.names if name not in _PROVENANCE)


# Columns a reader fills; the builder adds source_format, input_path and input_record.
READER_COLUMNS: tuple[str, ...] = reader_columns(EVENT_SCHEMA)


class BatchBuilder:
    """Accumulates accepted rows and quarantined records for one input file.

    The rows are canonical events by default; a reader of other records (served feed
    items) gives its own `schema`, which must hold the three provenance columns.
    """

    def __init__(
        self, source_format: str, input_path: str, schema: pa.Schema = EVENT_SCHEMA
    ) -> None:
        self.source_format = source_format
        self.schema = schema
        self._names = reader_columns(schema)
        # A file name that is not UTF-8 cannot be stored as text: its odd bytes escaped.
        self.input_path = display_name(input_path)
        self._columns: dict[str, list[Any]] = {name: [] for name in self._names}
        self._ordinals: list[int] = []
        self._quarantined: list[QuarantinedRecord] = []

    @property
    def rows(self) -> int:
        """Records collected since the last flush, accepted or quarantined."""
        return len(self._ordinals) + len(self._quarantined)

    def add(self, row: dict[str, Any], ordinal: int) -> None:
        """Accept one normalised record; `ordinal` is its 1-based position in the input."""
        for name, values in self._columns.items():
            values.append(row.get(name))
        self._ordinals.append(ordinal)

    def quarantine(self, position: str, reason: str, raw: bytes | str) -> None:
        """Set one unreadable record aside, with where it was and why."""
        self._quarantined.append(
            QuarantinedRecord(
                self.input_path, position, reason, excerpt_of(raw), self.source_format
            )
        )

    def table(self) -> pa.Table:
        """The accepted rows so far as a table of the builder's schema."""
        count = len(self._ordinals)
        arrays = []
        for field in self.schema:
            if field.name == "source_format":
                values: list[Any] = [self.source_format] * count
            elif field.name == "input_path":
                values = [self.input_path] * count
            elif field.name == "input_record":
                values = self._ordinals
            else:
                values = self._columns[field.name]
            arrays.append(pa.array(values, type=field.type))
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def flush(self) -> SourceBatch:
        """Hand over everything collected since the last flush and start afresh."""
        batch = SourceBatch(
            self.input_path,
            self.table(),
            quarantined=self._quarantined,
            records_read=self.rows,
        )
        self._columns = {name: [] for name in self._names}
        self._ordinals = []
        self._quarantined = []
        return batch
