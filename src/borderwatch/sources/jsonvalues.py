"""Decoded JSON values of a file, one at a time, for readers whose rows are not events.

Layouts as the event readers see them (sources/jsondoc.py): JSON lines (streamed, never
held whole), a container object with the values under a known key, a JSON array, or a
single object. Each value comes with its position; a line or a part that cannot be
decoded comes as `Damaged` with the reason, for the caller to quarantine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.sources.inputs import (
    CorruptInputError,
    LongLine,
    document_limit,
    head_bytes,
    iter_lines,
    read_bounded,
    record_limit,
    too_long,
)
from borderwatch.sources.jsondoc import after_line, damage_reason, json_layout

DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


@dataclass(frozen=True)
class Damaged:
    """A part of the file that could not be decoded, and why."""

    reason: str


@dataclass(frozen=True)
class JsonValue:
    """One value (or damage) and where it was: 'line 3', 'item 2', 'whole file'."""

    position: str
    value: Any
    raw: bytes


def json_values(path: Path, container_keys: Sequence[str] = ()) -> Iterator[JsonValue]:
    """Every top-level value of `path` (the items under a container key, when the file
    is such a container)."""
    layout, key = json_layout(head_bytes(path), container_keys)
    whole = None if layout == "lines" else read_bounded(path, document_limit())
    if whole is None:
        yield from _lines(path)
        return
    data, damage = whole
    try:
        document = msgspec.json.decode(data)
    except DECODE_ERRORS:
        # Not one clean document: several documents one per line, or damage.
        yield from _split_lines(data)
    else:
        items = document.get(key) if key and isinstance(document, dict) else None
        if isinstance(items, list):
            for index, item in enumerate(items, start=1):
                yield JsonValue(f"record {index} of {key}", item, _encoded(item))
        elif isinstance(document, list):
            for index, item in enumerate(document, start=1):
                yield JsonValue(f"item {index}", item, _encoded(item))
        else:
            yield JsonValue("whole file", document, data)
    if damage is not None:
        yield JsonValue(f"byte {damage.offset}", Damaged(damage_reason(damage)), b"")


def _lines(path: Path) -> Iterator[JsonValue]:
    number = 0
    limit = record_limit()
    try:
        for number, line in iter_lines(path, limit):
            if isinstance(line, LongLine):
                yield JsonValue(f"line {number}", Damaged(too_long(line, limit)), bytes(line))
            elif line.strip():
                yield _decoded(f"line {number}", line)
    except CorruptInputError as exc:
        yield JsonValue(after_line(number), Damaged(damage_reason(exc)), b"")


def _split_lines(data: bytes) -> Iterator[JsonValue]:
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield _decoded(f"line {number}", line)


def _decoded(position: str, line: bytes) -> JsonValue:
    try:
        return JsonValue(position, msgspec.json.decode(line), line)
    except DECODE_ERRORS as exc:
        return JsonValue(position, Damaged(f"invalid JSON: {exc}"), line)


def _encoded(item: Any) -> bytes:
    try:
        return msgspec.json.encode(item)
    except (TypeError, ValueError, msgspec.EncodeError):
        return b""
