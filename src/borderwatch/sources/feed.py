"""A reader of served-recommendation logs (JSON lines, CSV or Parquet) through a mapping.

The mapping file is the generic reader's (docs/mapping.md) with the feed's own fields
(FEED_FIELDS): which column holds the time a recommendation was served, the viewer's
region, the item, the item's topic, source country and creator, its position in the
feed, and the manual-intervention flag or reason. Rows come out in FEED_SCHEMA, never as
access events. A record without a usable time, with a position that is not a whole
number from 1 to a billion, or with a manual flag that is not true/false (or 1/0) is
quarantined with its position in the file and the reason, like every source's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from borderwatch.model.feed import FEED_SCHEMA
from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder, reader_columns
from borderwatch.sources.feed_columns import columnwise, read_columns
from borderwatch.sources.generic import GenericSource, extract, number_of, text_of
from borderwatch.sources.inputs import (
    CorruptInputError,
    LongLine,
    head_bytes,
    iter_lines,
    record_limit,
    too_long,
)
from borderwatch.sources.jsondoc import add_record, after_line, damage_reason, json_layout
from borderwatch.sources.mapping import MappedFields, Mapping, load_mapping
from borderwatch.sources.ocsf import Unconvertible, python_rows
from borderwatch.sources.record import RecordError, check_text, flag, kind_of, per_record

__all__ = ["FEED_FIELDS", "FeedSource", "load_feed_mapping"]

# What a feed mapping may map: every column of a feed row a reader fills.
FEED_FIELDS = MappedFields(reader_columns(FEED_SCHEMA), what="field of a feed record")
_TEXT_FIELDS = ("viewer_region", "item", "topic", "source_country", "creator")
# No feed is a billion items deep: a larger position is a broken record.
MAX_POSITION = 1_000_000_000
# Records turned into Arrow at once on the column-wise path.
_CHUNK = 10_000
# As the JSON lines reader (sources/jsondoc.py): each is one bad line.
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def load_feed_mapping(path: str | Path) -> FeedSource:
    """The feed reader for one mapping file (MappingError lists every problem in it)."""
    return FeedSource(load_mapping(path, FEED_FIELDS))


class FeedSource(GenericSource):
    """Reads served recommendations through a feed mapping (see module docstring)."""

    def __init__(self, mapping: Mapping) -> None:
        super().__init__(mapping)
        self.description = (
            mapping.description or f"feed log ({mapping.input}) mapped by {mapping.origin}"
        )

    def builder(self, path: Path) -> BatchBuilder:
        return BatchBuilder(self.name, str(path), FEED_SCHEMA)

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        """Batches of feed rows: column-wise where the mapping allows (feed_columns.py),
        with the same rows, row numbers and quarantine as record by record."""
        kind = self.mapping.input
        if columnwise(self.mapping) and kind == "parquet":
            yield from self._parquet_columns(path, batch_size)
        elif columnwise(self.mapping) and kind == "jsonl" and _json_lines(path):
            yield from self._lines_columns(path, batch_size)
        else:
            yield from super().read(path, batch_size)

    def _lines_columns(self, path: Path, batch_size: int) -> Iterator[SourceBatch]:
        builder = self.builder(path)
        pending: list[tuple[int, Any]] = []  # (line number, decoded record)
        chunk = min(batch_size, _CHUNK)
        limit = record_limit()
        number = 0
        try:
            for number, line in iter_lines(path, limit):
                if isinstance(line, LongLine):
                    builder.quarantine(f"line {number}", too_long(line, limit), line)
                    continue
                if not line.strip():
                    continue
                try:
                    pending.append((number, msgspec.json.decode(line)))
                except _DECODE_ERRORS as exc:
                    builder.quarantine(f"line {number}", f"invalid JSON: {exc}", line)
                if len(pending) + builder.rows >= chunk:
                    yield self._chunk(builder, pending, "line")
                    pending = []
        except CorruptInputError as exc:
            builder.quarantine(after_line(number), damage_reason(exc), b"")
        yield self._chunk(builder, pending, "line")

    def _parquet_columns(self, path: Path, batch_size: int) -> Iterator[SourceBatch]:
        builder = self.builder(path)
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            builder.quarantine("whole file", f"unreadable Parquet file: {exc}", b"")
            yield builder.flush()
            return
        row = 0
        try:
            for record_batch in parquet.iter_batches(batch_size=min(batch_size, _CHUNK)):
                yield self._rows_chunk(builder, record_batch, row)
                row += record_batch.num_rows
        except (pa.ArrowException, OSError, ValueError) as exc:
            builder.quarantine(
                f"row {row + 1} to end of file",
                f"damaged Parquet data: {exc}; rows after this point are lost",
                b"",
            )
        finally:
            parquet.close()
        yield builder.flush()

    def _chunk(
        self, builder: BatchBuilder, pending: list[tuple[int, Any]], where: str
    ) -> SourceBatch:
        """Decoded JSON records into a batch: objects column-wise, the rest per record."""
        objects = [(n, r) for n, r in pending if isinstance(r, dict)]
        for number, record in pending:
            if not isinstance(record, dict):
                add_record(builder, self.normalise, record, f"{where} {number}", number)
        try:
            table = pa.RecordBatch.from_struct_array(pa.array([r for _, r in objects]))
        except (pa.ArrowException, OverflowError, ValueError, TypeError, UnicodeError):
            # Types Arrow cannot hold in one column (a key that is a number here and text
            # there, an integer beyond 64 bits): this chunk is read record by record.
            for number, record in objects:
                add_record(builder, self.normalise, record, f"{where} {number}", number)
            return builder.flush()
        columns, ok = read_columns(table, self.mapping, MAX_POSITION)
        for index in np.flatnonzero(~ok):
            number, record = objects[index]
            add_record(builder, self.normalise, record, f"{where} {number}", number)
        return self._joined(builder, columns, ok, [n for n, _ in objects])

    def _rows_chunk(
        self, builder: BatchBuilder, record_batch: pa.RecordBatch, before: int
    ) -> SourceBatch:
        """A Parquet record batch into a batch: column-wise, the rest per record."""
        columns, ok = read_columns(record_batch, self.mapping, MAX_POSITION)
        slow = np.flatnonzero(~ok)
        if slow.size:
            rows = python_rows(record_batch.take(pa.array(slow)))
            for index, item in zip(slow, rows, strict=True):
                number = before + int(index) + 1
                if isinstance(item, Unconvertible):
                    builder.quarantine(f"row {number}", item.reason, b"")
                else:
                    add_record(builder, self.normalise, item, f"row {number}", number)
        return self._joined(
            builder, columns, ok, list(range(before + 1, before + record_batch.num_rows + 1))
        )

    def _joined(
        self,
        builder: BatchBuilder,
        columns: dict[str, pa.Array],
        ok: np.ndarray,
        numbers: list[int],
    ) -> SourceBatch:
        """The rows read column-wise (where `ok`) and the per-record ones, as one batch."""
        slow = builder.flush()
        count = int(ok.sum())
        keep = pa.array(ok)
        arrays = {name: pc.filter(values, keep) for name, values in columns.items()}
        arrays["source_format"] = pa.array([self.name] * count, pa.string())
        arrays["input_path"] = pa.array([builder.input_path] * count, pa.string())
        arrays["input_record"] = pc.filter(pa.array(numbers, pa.int64()), keep)
        fast = pa.Table.from_arrays(
            [arrays[field.name].cast(field.type) for field in FEED_SCHEMA], schema=FEED_SCHEMA
        )
        return SourceBatch(
            slow.input_path,
            pa.concat_tables([fast, slow.events]),
            quarantined=slow.quarantined,
            records_read=slow.records_read + count,
        )

    @per_record
    def normalise(self, item: Any) -> dict[str, Any]:
        """The feed columns of one record (a CSV row dict, JSON object or Parquet row)."""
        if not isinstance(item, dict):
            raise RecordError(f"record is {kind_of(item)}, expected an object")
        fields = self.mapping.fields
        row: dict[str, Any] = {
            "event_time": self._time([extract(item, spec) for spec in fields["event_time"]])
        }
        for name in _TEXT_FIELDS:
            row[name] = _first(name, [extract(item, spec) for spec in fields.get(name, ())])
        row["position"] = _position([extract(item, spec) for spec in fields.get("position", ())])
        reason = _first(
            "intervention_reason",
            [extract(item, spec) for spec in fields.get("intervention_reason", ())],
        )
        manual = _manual([extract(item, spec) for spec in fields.get("manual", ())])
        row["intervention_reason"] = reason
        # A reason says someone intervened, whatever the flag says.
        row["manual"] = bool(manual) or reason is not None
        return check_text(row)


def _json_lines(path: Path) -> bool:
    """Whether the file is JSON lines (an array or one document is read per record)."""
    return json_layout(head_bytes(path))[0] == "lines"


def _first(name: str, values: list[Any]) -> str | None:
    return next((t for v in values if (t := text_of(v, name)) is not None), None)


def _position(values: list[Any]) -> int | None:
    for value in values:
        if text_of(value, "position") is None:
            continue
        number = number_of(value)
        if number is None or number != int(number) or number < 1:
            raise RecordError(f"position {repr(value)[:40]} is not a whole number of 1 or more")
        if number > MAX_POSITION:
            # Also keeps the value inside the column's 64-bit integers.
            raise RecordError(f"position {repr(value)[:40]} is beyond {MAX_POSITION:,}")
        return int(number)
    return None


def _manual(values: list[Any]) -> bool | None:
    for value in values:
        if text_of(value, "manual") is None:
            continue
        decided = flag(value.strip() if isinstance(value, str) else value)
        if decided is None and not isinstance(value, bool) and str(value).strip() in ("0", "1"):
            decided = str(value).strip() == "1"  # 0/1 flags, as numbers or text
        if decided is None:
            raise RecordError(f"manual flag {repr(value)[:40]} is neither true nor false")
        return decided
    return None
