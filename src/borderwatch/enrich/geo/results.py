"""Turn record indexes into Arrow result columns, the same schema for every source."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from borderwatch.enrich.geo.table import TEXT_FIELDS, Record, flag_text
from borderwatch.inventory.locations import LocationRegistry

# Columns of one source's answer, in order. Text columns are dictionary-encoded strings.
RESULT_COLUMNS = (
    "country",
    "country_kind",
    "registered_country",
    "represented_country",
    "subdivision",
    "city",
    "flags",
    "anonymiser",
    "provider",
    "provider_region",
    "provider_service",
    "provider_country",
    "source",
)


def provider_country(record: Record, registry: LocationRegistry) -> str | None:
    """The single country of the record's provider region, if the registry knows it."""
    if not record.provider:
        return None
    if not record.provider_region:
        # A provider's own geofeed states the country of the range itself.
        return record.country if record.country_kind == "located" else None
    location = registry.resolve(record.provider, record.provider_region)
    return location.countries[0] if len(location.countries) == 1 else None


def result_table(
    records: list[Record], found: np.ndarray, source_id: str, registry: LocationRegistry
) -> pa.Table:
    """One row per looked-up value: the fields of `records[found]`, null where found < 0."""
    n = len(found)
    # Row len(records) is a sentinel "no record": every field null.
    rows = np.where(found >= 0, found, len(records))
    text: dict[str, list[str | None]] = {
        name: [getattr(r, name) for r in records] for name in TEXT_FIELDS
    }
    text["country_kind"] = [r.country_kind for r in records]
    text["anonymiser"] = [flag_text(r.flags) for r in records]
    text["provider_country"] = [provider_country(r, registry) for r in records]
    text["source"] = [source_id] * len(records)
    columns: dict[str, pa.Array] = {}
    for name in RESULT_COLUMNS:
        if name == "flags":
            flags = np.asarray([r.flags for r in records] + [0], dtype=np.uint16)
            columns[name] = _with_validity(pa.uint16(), flags[rows], rows < len(records))
        else:
            columns[name] = _encode(text[name], rows, n)
    return pa.table(columns)


def _encode(values: list[str | None], rows: np.ndarray, n: int) -> pa.Array:
    """Dictionary-encoded strings: one integer gather, no per-row Python."""
    words = list(dict.fromkeys(v for v in values if v is not None))
    dictionary = pa.array(words, pa.string())
    if not words:
        return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()), dictionary)
    position = {w: i for i, w in enumerate(words)}
    per_record = np.asarray(
        [position[v] if v is not None else -1 for v in values] + [-1], dtype=np.int32
    )
    codes = per_record[rows]
    valid = codes >= 0
    indices = _with_validity(pa.int32(), np.maximum(codes, 0), valid)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _with_validity(kind: pa.DataType, values: np.ndarray, valid: np.ndarray) -> pa.Array:
    if valid.all():
        return pa.array(values, kind)
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    data = pa.py_buffer(np.ascontiguousarray(values).tobytes())
    return pa.Array.from_buffers(kind, len(values), [bitmap, data], null_count=int((~valid).sum()))


def empty_result(n: int, source_id: str) -> pa.Table:
    """All-null answers (no source data at all)."""
    return result_table(
        [], np.full(n, -1, dtype=np.int64), source_id, LocationRegistry.load_builtin()
    )
