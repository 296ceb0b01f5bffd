"""Read JSON log files in every layout vendors deliver, one record at a time.

Layouts: JSON lines (streamed, never held whole); a container object holding the records
in a list under a known key (`{"Records": [...]}`, `{"entries": [...]}`, `{"value": [...]}`);
a JSON array; a single (often pretty-printed) object. Each record goes through the
format's `normalise` function; a record it rejects, a line that is not JSON, a container
that breaks part-way and a damaged gzip stream are quarantined with their position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder
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
from borderwatch.sources.jsonsplit import ValueWalker
from borderwatch.sources.record import RecordError, text_checked

Normaliser = Callable[[Any], dict[str, Any]]
# Adds one line (not blank, within the record limit) to the batch or quarantines it.
LineAdder = Callable[[BatchBuilder, bytes, int], None]

# msgspec raises UnicodeDecodeError for bytes that are not UTF-8, and RecursionError for
# JSON nested deeper than it follows (about 1,000 levels): both are one bad record.
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
_BLANK = b"\xef\xbb\xbf \t\r\n"


def read_json_records(
    path: Path,
    source_format: str,
    normalise: Normaliser,
    *,
    container_keys: Sequence[str] = (),
    batch_size: int = 50_000,
    builder: BatchBuilder | None = None,
) -> Iterator[SourceBatch]:
    """Yield batches of canonical events from one JSON file of any supported layout.

    `builder`: where the rows go (default: a builder of canonical events for `path`).
    """
    builder = builder or BatchBuilder(source_format, str(path))
    layout, key = json_layout(head_bytes(path), container_keys)
    if layout == "lines":
        yield from _read_lines(path, builder, normalise, batch_size)
        return
    whole = read_bounded(path, document_limit())
    if whole is None:
        # Too large to hold as one document: read line by line, each line bounded.
        yield from _read_lines(path, builder, normalise, batch_size)
        return
    data, damage = whole
    yield from _read_whole(data, key, builder, normalise, batch_size, container_keys)
    if damage is not None:
        builder.quarantine(f"byte {damage.offset}", damage_reason(damage), b"")
    yield builder.flush()


def damage_reason(damage: CorruptInputError) -> str:
    """The quarantine reason of damaged input: trailing garbage loses nothing, else the
    records after the damage are lost."""
    if damage.trailing_at is not None:
        return damage.reason
    return f"{damage.reason}; records after this point are lost"


def after_line(number: int) -> str:
    """The position of damage found after line `number` (0: before the first line)."""
    return f"after line {number}" if number else "start of file"


def json_layout(head: bytes, container_keys: Sequence[str] = ()) -> tuple[str, str]:
    """(layout, key) from a file's first bytes; layout is one of:

    - 'container': the document opens with a container key (`{"Records": [`);
    - 'nested-key': a container key appears later in a document that is not JSON lines;
      the reader checks on the parsed document that the key holds the top-level list,
      since a single record may hold a list of the same name (a BigQuery ACL's
      "entries"), and never salvages such a file record by record;
    - 'document' (one object or an array) or 'lines' (JSON lines).
    """
    stripped = head.lstrip(_BLANK)
    if stripped.startswith(b"["):
        return "document", ""
    if not stripped.startswith(b"{"):
        return "lines", ""
    for key in container_keys:
        if _container_pattern(key, anchored=True).match(stripped):
            return "container", key
    if _is_json_lines(stripped):
        return "lines", ""
    for key in container_keys:
        if _container_pattern(key, anchored=False).search(stripped):
            return "nested-key", key
    return "document", ""


def _is_json_lines(stripped: bytes) -> bool:
    """True when the first line is a whole JSON value (a pretty-printed file's is not)."""
    first_line, _, rest = stripped.partition(b"\n")
    if not rest.strip():
        return False  # one line only: a single document
    try:
        msgspec.json.decode(first_line)
    except _DECODE_ERRORS:
        return False
    return True


def _container_pattern(key: str, *, anchored: bool) -> re.Pattern[bytes]:
    quoted = rb'"' + re.escape(key.encode()) + rb'"\s*:\s*\['
    return re.compile(rb"\{\s*" + quoted if anchored else quoted)


def _read_whole(
    data: bytes,
    key: str,
    builder: BatchBuilder,
    normalise: Normaliser,
    batch_size: int,
    keys: Sequence[str],
) -> Iterator[SourceBatch]:
    """A document held whole: the records under `key` of a container, else its items.

    `key` is "" for a document that is not a container (an object or an array).
    """
    try:
        document = msgspec.json.decode(data)
    except _DECODE_ERRORS:
        # Several documents, damage or trailing garbage: every readable record is kept.
        yield from read_values(data, keys, builder, normalise, batch_size)
        return
    records = document.get(key) if key and isinstance(document, dict) else None
    if not isinstance(records, list):
        # No container, or the key was deeper inside a record: the file is its items.
        _add_items(document, builder, normalise)
        return
    for index, record in enumerate(records, start=1):
        add_record(builder, normalise, record, f"record {index} of {key}", index)
        if builder.rows >= batch_size:
            yield builder.flush()


def read_values(
    data: bytes,
    keys: Sequence[str],
    builder: BatchBuilder,
    normalise: Normaliser,
    batch_size: int,
) -> Iterator[SourceBatch]:
    """Every record of JSON text that is not one clean document (see jsonsplit)."""
    text = data.decode("utf-8", errors="replace")

    # json (unlike msgspec) keeps lone surrogates, which Arrow cannot hold.
    checked = text_checked(normalise)

    def add(record: Any, position: str, ordinal: int) -> None:
        add_record(builder, checked, record, position, ordinal)

    walker = ValueWalker(text, keys, add, builder.quarantine)
    for _ in walker.walk():
        if builder.rows >= batch_size:
            yield builder.flush()


def _add_items(document: Any, builder: BatchBuilder, normalise: Normaliser) -> None:
    items = document if isinstance(document, list) else [document]
    for index, item in enumerate(items, start=1):
        position = "whole file" if not isinstance(document, list) else f"item {index}"
        add_record(builder, normalise, item, position, index)


def _read_lines(
    path: Path, builder: BatchBuilder, normalise: Normaliser, batch_size: int
) -> Iterator[SourceBatch]:
    def add_line(builder: BatchBuilder, line: bytes, number: int) -> None:
        try:
            record = msgspec.json.decode(line)
        except _DECODE_ERRORS as exc:
            builder.quarantine(f"line {number}", f"invalid JSON: {exc}", line)
        else:
            add_record(builder, normalise, record, f"line {number}", number)

    return read_lines(path, builder, add_line, batch_size)


def read_lines(
    path: Path, builder: BatchBuilder, add_line: LineAdder, batch_size: int
) -> Iterator[SourceBatch]:
    """Batches of a file of one record per line, streamed: `add_line` takes each line
    that is not blank; an over-long line and damage are quarantined here."""
    number = 0
    limit = record_limit()
    try:
        for number, line in iter_lines(path, limit):
            if isinstance(line, LongLine):
                builder.quarantine(f"line {number}", too_long(line, limit), line)
                continue
            if not line.strip():
                continue
            add_line(builder, line, number)
            if builder.rows >= batch_size:
                yield builder.flush()
    except CorruptInputError as exc:
        builder.quarantine(after_line(number), damage_reason(exc), b"")
    yield builder.flush()


def add_record(
    builder: BatchBuilder, normalise: Normaliser, item: Any, position: str, ordinal: int
) -> None:
    """Normalise one decoded record into the batch, or quarantine it with the reason."""
    try:
        row = normalise(item)
    except RecordError as exc:
        builder.quarantine(position, str(exc), raw_json(item))
        return
    builder.add(row, ordinal)


def raw_json(item: Any) -> bytes:
    """The record as compact JSON, for a quarantine excerpt."""
    try:
        return msgspec.json.encode(item)
    except (TypeError, ValueError, RecursionError, msgspec.EncodeError):
        # A lone surrogate (from the salvage path's json module) is not UTF-8; repr of
        # a deep value recurses too: the excerpt then says what it is, not what it held.
        try:
            return repr(item).encode("utf-8", errors="backslashreplace")
        except RecursionError:
            return b"(a value nested too deeply to show)"
