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

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder
from borderwatch.sources.cloudtrail_fast import (
    POOL_RECORDS,
    ContainerPool,
    pure_container,
    read_container,
    read_lines,
)
from borderwatch.sources.cloudtrail_record import normalise
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.jsondoc import json_layout, read_json_records

NAME = "cloudtrail"

_DIGEST_MARKERS = (b'"digestStartTime"', b'"digestEndTime"')
_RECORD_MARKERS = (b'"eventSource"', b'"eventName"', b'"eventVersion"')
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
        head = head_bytes(path)
        skipped = _skip_reason(head)
        if skipped:
            empty = BatchBuilder(NAME, str(path)).table()
            yield SourceBatch(str(path), empty, skipped_reason=skipped)
            return
        layout, key = json_layout(head, ("Records",))
        if layout == "lines":
            yield from read_lines(path, NAME, batch_size)
        elif layout == "container" and key == "Records":
            yield from read_container(path, NAME, batch_size, lambda: _forgiving(path, batch_size))
        else:
            yield from _forgiving(path, batch_size)

    def read_many(self, paths: Sequence[Path]) -> Iterator[tuple[int, SourceBatch]]:
        """(index into `paths`, batch) for several inputs, in order; the same batches'
        rows and accounting as read() of each, with small clean Records files (the S3
        delivery) turned into columns together instead of one by one."""
        pool = ContainerPool(NAME)
        for index, path in enumerate(paths):
            records = _poolable(path)
            if records is None:
                yield from pool.flush(self.read)
                for batch in self.read(path):
                    yield index, batch
                continue
            pool.add(index, path, records)
            if pool.size >= POOL_RECORDS:
                yield from pool.flush(self.read)
        yield from pool.flush(self.read)

    def read_forgiving(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        """The slow path alone: every record through `normalise` (see cloudtrail_fast)."""
        skipped = _skip_reason(head_bytes(path))
        if skipped:
            empty = BatchBuilder(NAME, str(path)).table()
            yield SourceBatch(str(path), empty, skipped_reason=skipped)
            return
        yield from _forgiving(path, batch_size)


def _poolable(path: Path) -> list[Any] | None:
    """The records of a clean {"Records": [...]} file (see pure_container), else None."""
    head = head_bytes(path)
    if _skip_reason(head):
        return None
    layout, key = json_layout(head, ("Records",))
    if layout != "container" or key != "Records":
        return None
    return pure_container(path)


def _forgiving(path: Path, batch_size: int) -> Iterator[SourceBatch]:
    return read_json_records(
        path, NAME, normalise, container_keys=("Records",), batch_size=batch_size
    )


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
