"""A reader for any CSV, JSON lines or Parquet access log, driven by a mapping file.

The mapping (sources/mapping.py, docs/mapping.md) names the format and says which column
or nested path holds each canonical field. Cells that hold Python-repr dicts (common in
notebook exports) are read with `ast.literal_eval`, which accepts literals only and never
runs code. A row without a usable time is quarantined, never given one.

The generic source sniffs a file only when the mapping lists `header` columns, and then
only if every listed column is present: a mapping never claims files by accident.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder
from borderwatch.sources.inputs import CorruptInputError, open_input
from borderwatch.sources.jsondoc import add_record, read_json_records
from borderwatch.sources.mapping import LIST_FIELDS, FieldSpec, Mapping, load_mapping
from borderwatch.sources.ocsf import PARQUET_MAGIC, read_parquet
from borderwatch.sources.record import (
    RecordError,
    check_text,
    content_id,
    flag,
    in_utc,
    kind_of,
    parse_time,
    per_record,
)

__all__ = ["GenericSource", "source_from_mapping_file"]

_MISSING = object()
# Python-literal cells are bounded so a hostile file cannot make literal_eval work hard.
_MAX_LITERAL = 100_000


def source_from_mapping_file(path: Path) -> GenericSource:
    """The generic source for one mapping file (raises MappingError when it is invalid)."""
    return GenericSource(load_mapping(path))


class GenericSource:
    """Reads CSV / JSON lines / Parquet through a user's mapping (see module docstring)."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.name = mapping.name
        self.description = mapping.description or f"{mapping.input} mapped by {mapping.origin}"

    def sniff(self, path: Path, head: bytes) -> bool:
        wanted = set(self.mapping.header)
        if not wanted:
            return False
        try:
            return wanted <= self._columns_of(path, head)
        except (ValueError, csv.Error, pa.ArrowException, OSError, RecursionError):
            return False

    def _columns_of(self, path: Path, head: bytes) -> set[str]:
        kind = self.mapping.input
        if kind == "parquet":
            return set(pq.read_schema(path).names) if head.startswith(PARQUET_MAGIC) else set()
        first = head.decode("utf-8-sig", errors="replace").lstrip().split("\n", 1)[0]
        if kind == "csv":
            return set(next(csv.reader([first], delimiter=self.mapping.delimiter), []))
        decoded = json.loads(first)
        return set(decoded) if isinstance(decoded, dict) else set()

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        kind = self.mapping.input
        builder = self.builder(path)
        if kind == "csv":
            yield from self._read_csv(path, batch_size, builder)
        elif kind == "parquet":
            yield from read_parquet(
                path, self.name, self.normalise, batch_size=batch_size, builder=builder
            )
        else:
            yield from read_json_records(
                path, self.name, self.normalise, batch_size=batch_size, builder=builder
            )

    def builder(self, path: Path) -> BatchBuilder:
        """Where the rows of `path` are collected: canonical events (a reader of other
        records, such as served feed items, gives its own schema here)."""
        return BatchBuilder(self.name, str(path))

    def _read_csv(
        self, path: Path, batch_size: int, builder: BatchBuilder
    ) -> Iterator[SourceBatch]:
        try:
            stream = open_input(path)
        except CorruptInputError as exc:
            builder.quarantine("whole file", exc.reason, b"")
            yield builder.flush()
            return
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text, delimiter=self.mapping.delimiter)
        header: list[str] | None = None
        ordinal = 0
        try:
            while True:
                line = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    builder.quarantine(f"line {line}", f"unreadable CSV: {exc}", b"")
                    continue
                if header is None:
                    header = cells
                    continue
                if not any(cell.strip() for cell in cells):
                    continue
                ordinal += 1
                if len(cells) != len(header):
                    builder.quarantine(
                        f"line {line}",
                        f"row has {len(cells)} fields, the header has {len(header)}",
                        self.mapping.delimiter.join(cells),
                    )
                else:
                    add_record(
                        builder,
                        self.normalise,
                        dict(zip(header, cells, strict=True)),
                        f"line {line}",
                        ordinal,
                    )
                if builder.rows >= batch_size:
                    yield builder.flush()
        except CorruptInputError as exc:
            builder.quarantine(
                f"after line {reader.line_num}",
                f"{exc.reason}; records after this point are lost",
                b"",
            )
        finally:
            text.close()
        if header is None and builder.rows == 0:
            builder.quarantine("whole file", "empty CSV: no header row", b"")
        yield builder.flush()

    @per_record
    def normalise(self, item: Any) -> dict[str, Any]:
        """The canonical columns of one record (a CSV row dict, JSON object or Parquet row)."""
        if not isinstance(item, dict):
            raise RecordError(f"record is {kind_of(item)}, expected an object")
        row: dict[str, Any] = {}
        for name, specs in self.mapping.fields.items():
            values = [_extract(item, spec) for spec in specs]
            if name in LIST_FIELDS:
                row[name] = _as_list(values)
            elif name == "event_time":
                row[name] = self._time(values)
            elif name == "read_only":
                row[name] = next((f for v in values if (f := _as_flag(v)) is not None), None)
            else:
                row[name] = next((t for v in values if (t := _as_text(v, name)) is not None), None)
        if "event_time" not in row:
            raise RecordError("no time: the mapping gives no event_time")
        if not row.get("event_id"):
            row["event_id"] = content_id(_jsonable(item))
        # JSON and Python-literal cells may hold lone surrogates, which Arrow cannot.
        return check_text(row)

    def _time(self, values: list[Any]) -> datetime:
        value = next((v for v in values if v not in (None, "", _MISSING)), None)
        if value is None:
            raise RecordError("event time missing: an event without a time cannot be judged")
        if isinstance(value, datetime):
            return in_utc(value, "event time")
        fmt, epoch = self.mapping.time_format, self.mapping.epoch
        if epoch is not None:
            number = _number(value)
            if number is None:
                raise RecordError(f"event time {str(value)[:40]!r} is not an epoch number")
            seconds = number / 1000 if epoch == "ms" else number
            try:
                return datetime.fromtimestamp(seconds, UTC)
            except (OverflowError, OSError, ValueError):
                raise RecordError(f"event time {value!r} is out of range") from None
        if fmt is not None and isinstance(value, str):
            try:
                parsed = datetime.strptime(value.strip(), fmt)
            except ValueError:
                raise RecordError(
                    f"event time {value[:40]!r} does not match time_format {fmt!r}"
                ) from None
            return in_utc(parsed, "event time")
        return parse_time(value, "event time", epoch=True)


def _extract(item: dict[str, Any], spec: FieldSpec) -> Any:
    if spec.constant:
        return spec.value
    assert spec.column is not None
    value = _lookup(item, spec.column)
    if value is _MISSING:
        return _MISSING
    if spec.parse is not None and isinstance(value, str):
        value = _parse_cell(value, spec)
    for key in spec.path:
        value = _step(value, key)
        if value is _MISSING:
            break
    if spec.prefix:
        value = _prefixed(value, spec.prefix)
    return value


def _prefixed(value: Any, prefix: str) -> Any:
    """`prefix` before a text or number value (each, in a list); others as they are."""
    if isinstance(value, list):
        return [_prefixed(v, prefix) for v in value]
    if isinstance(value, str) and value.strip():
        return prefix + value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return prefix + str(value)
    return value


def _lookup(value: Any, dotted: str) -> Any:
    """value[dotted], else the longest leading key that exists, then the rest as a path."""
    if not isinstance(value, dict):
        return _step(value, dotted) if "." not in dotted else _MISSING
    if dotted in value:
        return value[dotted]
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in value:
            return _lookup(value[head], ".".join(parts[cut:]))
    return _MISSING


def _step(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key, _MISSING)
    if isinstance(value, list) and key.lstrip("-").isdigit():
        index = int(key)
        return value[index] if -len(value) <= index < len(value) else _MISSING
    return _MISSING


def _parse_cell(value: str, spec: FieldSpec) -> Any:
    text = value.strip()
    if not text:
        return _MISSING
    if len(text) > _MAX_LITERAL:
        raise RecordError(f"{spec.column}: cell is too long to parse ({len(text)} characters)")
    if spec.parse == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise RecordError(f"{spec.column}: not JSON ({exc.args[0][:60]})") from None
        except RecursionError:
            raise RecordError(f"{spec.column}: JSON nested too deeply") from None
    try:
        # Literals only (dict, list, str, numbers, True/False/None): never code.
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise RecordError(f"{spec.column}: not a Python literal") from None


def _as_text(value: Any, name: str) -> str | None:
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    raise RecordError(f"{name} is {kind_of(value)}, expected text (add a path into it)")


def _as_flag(value: Any) -> bool | None:
    if isinstance(value, str):
        value = value.strip()
    return flag(value)


def _as_list(values: list[Any]) -> list[str]:
    found: list[str] = []
    for value in values:
        items = value if isinstance(value, list | tuple) else [value]
        for entry in items:
            if isinstance(entry, str) and entry.strip():
                found.append(entry.strip())
            elif isinstance(entry, int | float) and not isinstance(entry, bool):
                found.append(str(entry))
    return list(dict.fromkeys(found))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _jsonable(item: dict[str, Any]) -> Any:
    """The record with values msgspec cannot encode (Decimal, bytes) turned into text."""
    try:
        json.dumps(item, default=str)
    except (TypeError, ValueError):
        return repr(item)
    return json.loads(json.dumps(item, default=str))


# The record helpers, for readers built on this one with other fields (sources/feed.py).
extract = _extract
text_of = _as_text
number_of = _number
