"""AWS CloudTrail, in every shape it reaches an auditor.

Shapes read:
- S3 delivery files `{"Records": [...]}`, plain or gzipped (by content, not name);
- JSON lines, one record per line (exports, SIEM dumps, Logstash with `@timestamp`);
- EventBridge events wrapping a record in `detail`, one object or one per line;
- records reshaped by log vendors that moved the caller to `network.client.ip`.

CloudTrail digest files are recognised and skipped with a note. Nothing is ever
dropped silently: a record that cannot be read is quarantined with its position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder
from borderwatch.sources.cloudtrail_record import RecordError, normalise
from borderwatch.sources.inputs import CorruptInputError, iter_lines, read_all

NAME = "cloudtrail"

_RECORDS_KEY = re.compile(rb'"Records"\s*:\s*\[')
_DIGEST_MARKERS = (b'"digestStartTime"', b'"digestEndTime"')
_RECORD_MARKERS = (b'"eventSource"', b'"eventName"', b'"eventVersion"')
# msgspec raises UnicodeDecodeError for bytes that are not UTF-8.
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)
# SNS/SQS messages announcing a delivered log file: they name files, hold no events.
_NOTIFICATION_MARKERS = (b'"Notification"', b"s3ObjectKey")


class CloudTrailSource:
    """Reads CloudTrail files into canonical events (see module docstring)."""

    name = NAME
    description = "AWS CloudTrail: S3-delivered Records files (.json/.gz), JSON lines, EventBridge"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith((b"{", b"[")):
            return False
        if _is_digest(head) or _is_notification(head):
            return True
        return b'"Records"' in head or sum(m in head for m in _RECORD_MARKERS) >= 2

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        display = str(path)
        data, damage = read_all(path)
        skipped = _skip_reason(data)
        if skipped:
            yield SourceBatch(display, BatchBuilder(NAME, display).table(), skipped_reason=skipped)
            return
        builder = BatchBuilder(NAME, display)
        shape = _document_shape(data)
        if shape == "records":
            yield from _read_records_document(data, builder, batch_size)
        elif shape == "single":
            yield from _read_single_document(data, builder)
        else:
            yield from _read_lines(path, builder, batch_size)
            return  # iter_lines reports its own damage
        if damage is not None:
            builder.quarantine(
                f"byte {damage.offset}",
                f"{damage.reason}; records after this point are lost",
                b"",
            )
        yield builder.flush()


def _skip_reason(data: bytes) -> str:
    if _is_digest(data):
        return "CloudTrail digest file (integrity data, no events)"
    if _is_notification(data):
        return "CloudTrail delivery notification (names log files, holds no events)"
    return ""


def _is_notification(data: bytes) -> bool:
    head = data[:4096]
    return all(marker in head for marker in _NOTIFICATION_MARKERS) and b'"Records"' not in head


def _is_digest(data: bytes) -> bool:
    head = data[:4096]
    return all(marker in head for marker in _DIGEST_MARKERS) and b'"Records"' not in head


def _document_shape(data: bytes) -> str:
    """'records' for {"Records": [...]}, 'single' for one pretty-printed object, else 'lines'."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _RECORDS_KEY.search(stripped[:4096]) and stripped.startswith(b"{"):
        return "records"
    if stripped.startswith(b"["):
        return "single"
    first_line = stripped.split(b"\n", 1)[0].strip()
    # A JSON-lines file's first line is a whole object; a pretty-printed one's is not.
    if stripped.startswith(b"{") and not first_line.endswith(b"}"):
        return "single"
    return "lines"


def _read_records_document(
    data: bytes, builder: BatchBuilder, batch_size: int
) -> Iterator[SourceBatch]:
    try:
        document = msgspec.json.decode(data)
    except _DECODE_ERRORS:
        # Broken JSON: keep every record before the damage, quarantine the rest.
        yield from _salvage_records(data, builder, batch_size)
        return
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        builder.quarantine("whole file", "'Records' is not a list", data)
        return
    for index, record in enumerate(records, start=1):
        _add(builder, record, f"record {index} of Records", index)
        if builder.rows >= batch_size:
            yield builder.flush()


def _salvage_records(data: bytes, builder: BatchBuilder, batch_size: int) -> Iterator[SourceBatch]:
    text = data.decode("utf-8", errors="replace")
    match = re.search(r'"Records"\s*:\s*\[', text)
    if match is None:
        builder.quarantine("whole file", "invalid JSON: no readable 'Records' list", data)
        return
    decoder = json.JSONDecoder()
    pos, index = match.end(), 0
    while True:
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == "]":
            return
        index += 1
        try:
            record, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            _quarantine_rest(builder, text, pos, index, f"invalid JSON: {exc.msg}")
            return
        _add(builder, record, f"record {index} of Records", index)
        if builder.rows >= batch_size:
            yield builder.flush()
        pos = _skip_space(text, end)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos >= len(text) or text[pos] != "]":
            _quarantine_rest(
                builder, text, pos, index + 1, "invalid JSON: expected ',' or ']' between records"
            )
            return


def _quarantine_rest(builder: BatchBuilder, text: str, pos: int, index: int, reason: str) -> None:
    line = text.count("\n", 0, pos) + 1
    builder.quarantine(
        f"record {index} of Records (line {line}) to end of file",
        f"{reason}; the rest of the file cannot be split into records",
        text[pos : pos + 200].encode(),
    )


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _read_single_document(data: bytes, builder: BatchBuilder) -> Iterator[SourceBatch]:
    try:
        document = msgspec.json.decode(data)
    except _DECODE_ERRORS as exc:
        builder.quarantine("whole file", f"invalid JSON: {exc}", data)
        return
    items = document if isinstance(document, list) else [document]
    for index, item in enumerate(items, start=1):
        _add(builder, item, "whole file" if len(items) == 1 else f"item {index}", index)
    yield from ()


def _read_lines(path: Path, builder: BatchBuilder, batch_size: int) -> Iterator[SourceBatch]:
    number = 0
    try:
        for number, line in iter_lines(path):
            if not line.strip():
                continue
            try:
                record = msgspec.json.decode(line)
            except _DECODE_ERRORS as exc:
                builder.quarantine(f"line {number}", f"invalid JSON: {exc}", line)
            else:
                _add(builder, record, f"line {number}", number)
            if builder.rows >= batch_size:
                yield builder.flush()
    except CorruptInputError as exc:
        builder.quarantine(
            f"after line {number}", f"{exc.reason}; records after this point are lost", b""
        )
    yield builder.flush()


def _add(builder: BatchBuilder, item: Any, position: str, ordinal: int) -> None:
    try:
        row = normalise(item)
    except RecordError as exc:
        builder.quarantine(position, str(exc), _raw(item))
        return
    builder.add(row, ordinal)


def _raw(item: Any) -> bytes:
    try:
        return msgspec.json.encode(item)
    except (TypeError, msgspec.EncodeError):
        return repr(item).encode()
