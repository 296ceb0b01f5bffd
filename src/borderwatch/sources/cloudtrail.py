"""AWS CloudTrail, in every shape it reaches an auditor.

Shapes read:
- S3 delivery files `{"Records": [...]}`, plain or gzipped (by content, not name);
- JSON lines, one record per line (exports, SIEM dumps, Logstash with `@timestamp`);
- EventBridge events wrapping a record in `detail`, one object or one per line;
- records reshaped by log vendors that moved the caller to `network.client.ip`.

CloudTrail digest files and delivery notifications (SNS messages, as SQS delivers
them, naming the log files written) hold no events and are skipped with a note. They are
recognised by their whole structure, never by words in a file's first bytes: a caller
writes those words into its own records (a User-Agent, an object key, request tags), and
a file skipped for them would hide its accesses. Nothing is ever dropped silently: a
record that cannot be read is quarantined with its position.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

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
from borderwatch.sources.fields import is_json_start
from borderwatch.sources.inputs import head_bytes, read_bounded
from borderwatch.sources.jsondoc import json_layout, read_json_records

NAME = "cloudtrail"

_RECORD_MARKERS = (b'"eventSource"', b'"eventName"', b'"eventVersion"')


class CloudTrailSource:
    """Reads CloudTrail files into canonical events (see module docstring)."""

    name = NAME
    description = "AWS CloudTrail: S3-delivered Records files (.json/.gz), JSON lines, EventBridge"

    def sniff(self, path: Path, head: bytes) -> bool:
        if not is_json_start(head):
            return False
        if skip_reason(path, head):
            return True
        return b'"Records"' in head or sum(m in head for m in _RECORD_MARKERS) >= 2

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        head = head_bytes(path)
        skipped = skip_reason(path, head)
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
        skipped = skip_reason(path, head_bytes(path))
        if skipped:
            empty = BatchBuilder(NAME, str(path)).table()
            yield SourceBatch(str(path), empty, skipped_reason=skipped)
            return
        yield from _forgiving(path, batch_size)


def _poolable(path: Path) -> list[Any] | None:
    """The records of a clean {"Records": [...]} file (see pure_container), else None."""
    head = head_bytes(path)
    if skip_reason(path, head):
        return None
    layout, key = json_layout(head, ("Records",))
    if layout != "container" or key != "Records":
        return None
    return pure_container(path)


def _forgiving(path: Path, batch_size: int) -> Iterator[SourceBatch]:
    return read_json_records(
        path, NAME, normalise, container_keys=("Records",), batch_size=batch_size
    )


def skip_reason(path: Path, head: bytes) -> str:
    """Why `path` holds no events and is skipped (a digest file, delivery notifications),
    else "". Decided by the structure of every value in the file (notification_kind)."""
    if not any(marker in head for marker in _MAYBE_SKIPPED):
        return ""  # cheap: a file without these words cannot be either kind
    whole = read_bounded(path, _SKIPPED_LIMIT)
    if whole is None or whole[1] is not None:
        return ""  # too large or damaged: read as records, the damage is reported there
    values = _values_of(whole[0])
    if not values:
        return ""
    kinds = {not_events_kind(value) for value in values}
    if kinds == {"digest"} and len(values) == 1:
        named = " named as such" if _DIGEST_NAME.search(path.as_posix()) else ""
        return f"CloudTrail digest file{named} (integrity data, no events)"
    if kinds == {"notification"}:
        return (
            f"CloudTrail delivery notification{'s' if len(values) > 1 else ''} "
            "(names log files, holds no events)"
        )
    return ""


def not_events_kind(value: Any) -> str:
    """'digest' or 'notification' when a decoded JSON value is one, else "".

    A digest file is one object with the digest's own fields (digestStartTime and
    digestEndTime as text, logFiles a list of objects, digestS3Object) and none of a
    record's. A notification is the SNS envelope (Type "Notification", TopicArn, and a
    Message that is itself JSON naming s3Bucket and the list s3ObjectKey), or that
    message alone. A caller controls values inside its records, never these keys at the
    top level of a file.
    """
    if not isinstance(value, dict) or _RECORD_KEYS & value.keys():
        return ""
    if (
        isinstance(value.get("digestStartTime"), str)
        and isinstance(value.get("digestEndTime"), str)
        and isinstance(value.get("logFiles"), list)
        and all(isinstance(item, dict) for item in value["logFiles"])
        and "awsAccountId" in value
    ):
        return "digest"
    if value.get("Type") == "Notification" and isinstance(value.get("TopicArn"), str):
        message = value.get("Message")
        try:
            value = msgspec.json.decode(message) if isinstance(message, str) else None
        except _DECODE_ERRORS:
            return ""
        if not isinstance(value, dict):
            return ""
    if (
        isinstance(value.get("s3Bucket"), str)
        and isinstance(value.get("s3ObjectKey"), list)
        and all(isinstance(key, str) for key in value["s3ObjectKey"])
        and set(value) <= {"s3Bucket", "s3ObjectKey"}
    ):
        return "notification"
    return ""


def _values_of(data: bytes) -> list[Any]:
    """The JSON values of a file holding one document or JSON lines; [] if not JSON."""
    try:
        return [msgspec.json.decode(data)]
    except _DECODE_ERRORS:
        pass
    values = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            values.append(msgspec.json.decode(line))
        except _DECODE_ERRORS:
            return []
    return values


# Only a file whose head holds one of these can be a digest or a notification.
_MAYBE_SKIPPED = (b"digestStartTime", b"s3ObjectKey")
# Digest files list the log files of an hour (a few hundred KB at most); notifications
# are smaller still. A larger file is read as records.
_SKIPPED_LIMIT = 16 << 20
# Keys of a record (or of a Records file, or an EventBridge envelope) at the top level.
_RECORD_KEYS = frozenset({"Records", "eventTime", "eventName", "eventSource", "detail"})
# The S3 delivery layout: AWSLogs/<account>/CloudTrail-Digest/<region>/... and
# <account>_CloudTrail-Digest_<region>_..._<time>.json.gz
_DIGEST_NAME = re.compile(r"(?:^|/)CloudTrail-Digest/|_CloudTrail-Digest_")
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
