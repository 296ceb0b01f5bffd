"""Feed records a column at a time: the fast path of the feed reader.

The per-record reader (sources/feed.py, `FeedSource.normalise`) decides every value of
every record in Python, about 40 times the cost of decoding the JSON (bench/README.md).
Here a chunk of records is one Arrow table (a Parquet record batch, or the decoded JSON
lines of a chunk turned into Arrow at once), each mapped field is found in it the way
the per-record reader finds it in a record, and each row is checked column-wise: a row
whose every value the per-record reader would read exactly as the columns give it (a
timestamp or a `YYYY-MM-DDTHH:MM:SSZ` time, text without surrounding blanks, a whole
position in range, a boolean flag) is taken from the columns; every other row goes
through the per-record reader, which reads it or quarantines it with its reason. So the
rows, their numbers and the quarantine are those of the per-record reader; only the
time differs. A mapping this does not follow column-wise (a parsed cell, several
sources for one field, a time format or epoch) is read per record throughout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.model.feed import FEED_SCHEMA
from borderwatch.sources.generic import text_of
from borderwatch.sources.mapping import FieldSpec, Mapping
from borderwatch.sources.record import RecordError

__all__ = ["columnwise", "read_columns"]

_TEXT = ("viewer_region", "item", "topic", "source_country", "creator", "intervention_reason")
# Text the per-record reader keeps as it is: no blank (nor anything Python's strip()
# removes) at either end. Anything else is left to it.
_PLAIN_TEXT = r"^[!-~](?s:.*[!-~])?$"
_ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
_FLAGS = {"true": True, "false": False, "1": True, "0": False}
# Times Python's datetime holds in every time zone (years 1 to 9999), in microseconds.
_EARLIEST = pa.scalar(-62135510400 * 1_000_000, pa.timestamp("us", tz="UTC"))
_LATEST = pa.scalar(253402214400 * 1_000_000, pa.timestamp("us", tz="UTC"))
_MISSING = object()


def columnwise(mapping: Mapping) -> bool:
    """Whether the fast path can follow `mapping` (else every record is read per record)."""
    if mapping.time_format is not None or mapping.epoch is not None:
        return False
    for name, specs in mapping.fields.items():
        if len(specs) != 1 or specs[0].parse is not None:
            return False
        if specs[0].constant and (name not in _TEXT or _constant_text(specs[0]) is _MISSING):
            return False
    return True


def read_columns(
    table: pa.Table | pa.RecordBatch, mapping: Mapping, max_position: int
) -> tuple[dict[str, pa.Array], np.ndarray]:
    """The feed columns of every row (FEED_SCHEMA's reader columns), and which rows the
    per-record reader would read exactly so: the other rows must go through it."""
    rows = table.num_rows
    ok = np.ones(rows, dtype=bool)
    columns: dict[str, pa.Array] = {}
    for field in FEED_SCHEMA:
        if field.name in ("source_format", "input_path", "input_record", "manual"):
            continue
        spec = mapping.fields.get(field.name)
        if spec is None:
            columns[field.name] = pa.nulls(rows, field.type)
            continue
        found = _found(table, spec[0], rows)
        if field.name == "event_time":
            values, good = _times(found)
        elif field.name == "position":
            values, good = _positions(found, max_position)
        else:
            values, good = _texts(found)
        columns[field.name] = values
        ok &= good
    manual_spec = mapping.fields.get("manual")
    if manual_spec is None:
        manual = pa.nulls(rows, pa.bool_())
    else:
        manual, good = _flags(_found(table, manual_spec[0], rows))
        ok &= good
    # A reason makes a view manual whatever its flag says (sources/feed.py).
    has_reason = pc.is_valid(columns["intervention_reason"])
    columns["manual"] = pc.or_(pc.fill_null(manual, False), has_reason)
    return columns, ok


def _constant_text(spec: FieldSpec) -> Any:
    try:
        return text_of(spec.value, "constant")
    except RecordError:
        return _MISSING


def _found(table: pa.Table | pa.RecordBatch, spec: FieldSpec, rows: int) -> Any:
    """The values of one field's source, as the per-record reader looks them up; all
    null where it finds nothing."""
    if spec.constant:
        return pa.array([_constant_text(spec)] * rows, pa.string())
    assert spec.column is not None
    value = _lookup({name: _column(table, name) for name in table.schema.names}, spec.column)
    for key in spec.path:
        if value is _MISSING or isinstance(value, _Unfollowed):
            break
        value = _lookup_in(value, key)
    return pa.nulls(rows) if value is _MISSING else value


def _column(table: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _lookup(fields: dict[str, Any], dotted: str) -> Any:
    """fields[dotted], else the longest leading name that exists, then the rest as a
    path (the per-record reader's `_lookup` on a record or an object)."""
    if dotted in fields:
        return fields[dotted]
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in fields:
            return _lookup_in(fields[head], ".".join(parts[cut:]))
    return _MISSING


def _lookup_in(array: pa.Array, dotted: str) -> Any:
    """One step into a column's values (the per-record reader's `_lookup` into a value)."""
    kind = array.type
    if pa.types.is_struct(kind):
        children = {kind.field(i).name: pc.struct_field(array, [i]) for i in range(kind.num_fields)}
        return _lookup(children, dotted)
    if pa.types.is_null(kind):
        return array
    if "." in dotted:
        return _MISSING  # a path into a value that is not an object: nothing there
    if _is_list(kind) and dotted.lstrip("-").isdigit():
        return _Unfollowed(array)  # an index into a list: rows holding one go per record
    if _is_list(kind) or pa.types.is_primitive(kind) or _is_text(kind):
        return _MISSING
    return _Unfollowed(array)


class _Unfollowed:
    """Values the fast path does not follow: the rows holding one go per record."""

    def __init__(self, array: pa.Array) -> None:
        self.array = array


def _is_list(kind: pa.DataType) -> bool:
    return bool(pa.types.is_list(kind) or pa.types.is_large_list(kind))


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _valid(array: Any) -> np.ndarray:
    if isinstance(array, _Unfollowed):
        return np.asarray(array.array.is_valid(), dtype=bool)
    return np.asarray(array.is_valid(), dtype=bool)


def _texts(array: Any) -> tuple[pa.Array, np.ndarray]:
    rows = len(array.array) if isinstance(array, _Unfollowed) else len(array)
    if isinstance(array, _Unfollowed):
        return pa.nulls(rows, pa.string()), ~_valid(array)
    kind = array.type
    if pa.types.is_dictionary(kind):
        array, kind = array.dictionary_decode(), kind.value_type
    if pa.types.is_null(kind):
        return pa.nulls(rows, pa.string()), np.ones(rows, dtype=bool)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.cast(array, pa.string())
        plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_TEXT), True)
        return text, np.asarray(plain, dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        # str() of an int, and "true"/"false" of a boolean: what Arrow's cast writes.
        return pc.cast(array, pa.string()), np.ones(rows, dtype=bool)
    return pa.nulls(rows, pa.string()), ~_valid(array)


def _times(array: Any) -> tuple[pa.Array, np.ndarray]:
    utc = pa.timestamp("us", tz="UTC")
    rows = len(array.array) if isinstance(array, _Unfollowed) else len(array)
    if isinstance(array, _Unfollowed):
        return pa.nulls(rows, utc), np.zeros(rows, dtype=bool)
    kind = array.type
    if pa.types.is_timestamp(kind) and kind.unit in ("s", "ms", "us"):
        # A naive time is UTC to the per-record reader too (record.in_utc).
        times = pc.cast(array.cast(pa.timestamp(kind.unit, tz=kind.tz or "UTC")), utc)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.cast(array, pa.string())
        iso = pc.fill_null(pc.match_substring_regex(text, _ISO_TIME), False)
        parsed = pc.strptime(
            pc.if_else(iso, text, pa.scalar(None, pa.string())),
            format="%Y-%m-%dT%H:%M:%SZ",
            unit="us",
            error_is_null=True,
        )
        times = pc.cast(parsed.cast(pa.timestamp("us", tz="UTC")), utc)
    else:
        return pa.nulls(rows, utc), np.zeros(rows, dtype=bool)
    inside = pc.and_(pc.greater_equal(times, _EARLIEST), pc.less_equal(times, _LATEST))
    return times, np.asarray(pc.fill_null(inside, False), dtype=bool)


def _positions(array: Any, max_position: int) -> tuple[pa.Array, np.ndarray]:
    rows = len(array.array) if isinstance(array, _Unfollowed) else len(array)
    if isinstance(array, _Unfollowed):
        return pa.nulls(rows, pa.int64()), ~_valid(array)
    kind = array.type
    if pa.types.is_null(kind):
        return pa.nulls(rows, pa.int64()), np.ones(rows, dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        number = pc.cast(array, pa.float64())
        whole = pc.equal(pc.floor(number), number)
        inside = pc.and_(pc.greater_equal(number, 1), pc.less_equal(number, max_position))
        good = pc.fill_null(pc.and_(whole, inside), True)
        keep = pc.if_else(good, number, pa.scalar(None, pa.float64()))
        return pc.cast(keep, pa.int64()), np.asarray(good, dtype=bool)
    return pa.nulls(rows, pa.int64()), ~_valid(array)


def _flags(array: Any) -> tuple[pa.Array, np.ndarray]:
    rows = len(array.array) if isinstance(array, _Unfollowed) else len(array)
    if isinstance(array, _Unfollowed):
        return pa.nulls(rows, pa.bool_()), ~_valid(array)
    kind = array.type
    if pa.types.is_null(kind):
        return pa.nulls(rows, pa.bool_()), np.ones(rows, dtype=bool)
    if pa.types.is_boolean(kind):
        return array, np.ones(rows, dtype=bool)
    if pa.types.is_integer(kind):
        good = pc.fill_null(pc.is_in(array, pa.array([0, 1], kind)), True)
        flags = pc.if_else(good, pc.equal(array, 1), pa.scalar(None, pa.bool_()))
        return flags, np.asarray(good, dtype=bool)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.cast(array, pa.string())
        good = pc.fill_null(pc.is_in(text, pa.array(list(_FLAGS))), True)
        flags = pc.is_in(text, pa.array(["true", "1"]))
        flags = pc.if_else(good, flags, pa.scalar(None, pa.bool_()))
        return pc.if_else(pc.is_valid(text), flags, pa.scalar(None, pa.bool_())), np.asarray(
            good, dtype=bool
        )
    return pa.nulls(rows, pa.bool_()), ~_valid(array)
