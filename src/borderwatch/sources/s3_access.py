"""AWS S3 server access logs, as AWS delivers them and as log pipelines reshape them.

Shapes read, line by line and mixed freely in one file:
- the raw space-separated text AWS writes to the target bucket:
  `owner bucket [06/Feb/2019:00:00:38 +0000] remote-ip requester request-id operation
  key "request-URI" status error-code bytes-sent object-size total-time turn-around-time
  "referer" "user-agent" version-id host-id sig-version cipher auth-type host-header
  tls-version access-point-arn acl-required ...` (`-` means no value; fields AWS adds at
  the end later are tolerated and ignored);
- such a line as a JSON string (one quoted line per line of the file);
- a JSON object per line with the fields named in lower case (`bucketowner`, `bucket`,
  `time`, `remoteip`, `requester`, `requestid`, `operation`, `key`, `httpstatus`,
  `errorcode`, `useragent`, `hostheader`, ...), as Panther and Athena tables name them.

A line that cannot be read is quarantined with its line number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder
from borderwatch.sources.fields import require_object
from borderwatch.sources.jsondoc import read_lines
from borderwatch.sources.record import (
    RecordError,
    content_id,
    in_utc,
    parse_time,
    per_record,
    text,
    unique,
)

NAME = "s3-access"

# The fields every access log line has had since the format began, then the rest.
_LINE = re.compile(
    r"^(?P<bucketowner>\S+) (?P<bucket>\S+) \[(?P<time>[^\]]+)\] (?P<remoteip>\S+) "
    r"(?P<requester>\S+) (?P<requestid>\S+) (?P<operation>\S+) (?P<key>\S+) "
    r'(?P<requesturi>"[^"]*"|-) (?P<httpstatus>\d{3}|-) (?P<errorcode>\S+)(?: (?P<rest>.*))?$'
)
_TOKEN = re.compile(r'"[^"]*"|\S+')
_REST_FIELDS = (
    "bytessent",
    "objectsize",
    "totaltime",
    "turnaroundtime",
    "referrer",
    "useragent",
    "versionid",
    "hostid",
    "signatureversion",
    "ciphersuite",
    "authenticationtype",
    "hostheader",
    "tlsversion",
    "accesspointarn",
    "aclrequired",
)
_TEXT_TIME = "%d/%b/%Y:%H:%M:%S %z"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SNIFF_LINE = re.compile(rb"^\S+ \S+ \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] ")
_REGION = re.compile(r"\.s3[.-](?:dualstack\.)?([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\.")
_CANONICAL_ID = re.compile(r"^[0-9a-f]{64}$")
_WRITE_PREFIXES = ("REST.PUT.", "REST.POST.", "REST.DELETE.", "REST.COPY.", "BATCH.DELETE.")
_READ_PREFIXES = ("REST.GET.", "REST.HEAD.", "REST.OPTIONS.")


class S3AccessSource:
    """Reads S3 server access logs (text or JSON lines) into canonical events."""

    name = NAME
    description = "AWS S3 server access logs: raw text lines, or JSON lines of their fields"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
        if _SNIFF_LINE.match(first):
            return True
        if first.startswith(b'"'):
            try:
                decoded = msgspec.json.decode(first)
            except (msgspec.DecodeError, UnicodeDecodeError):
                return False
            return isinstance(decoded, str) and bool(_SNIFF_LINE.match(decoded.encode()))
        if not first.startswith(b"{") or b'"eventSource"' in first:
            return False
        return b'"bucket"' in first and any(
            marker in first for marker in (b'"remoteip"', b'"requestid"', b'"bucketowner"')
        )

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        yield from read_lines(path, BatchBuilder(NAME, str(path)), _add_line, batch_size)


def _add_line(builder: BatchBuilder, line: bytes, number: int) -> None:
    try:
        row = normalise_line(line)
    except RecordError as exc:
        builder.quarantine(f"line {number}", str(exc), line)
    else:
        builder.add(row, number)


@per_record
def normalise_line(line: bytes) -> dict[str, Any]:
    """One line of the file (text, JSON string or JSON object) as canonical columns."""
    stripped = line.strip()
    if stripped.startswith((b"{", b'"')):
        try:
            decoded = msgspec.json.decode(stripped)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise RecordError(f"invalid JSON: {exc}") from None
        if isinstance(decoded, str):
            return normalise(parse_text_line(decoded))
        return normalise(decoded)
    try:
        decoded_text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError("line is not UTF-8 text") from None
    return normalise(parse_text_line(decoded_text))


def parse_text_line(line: str) -> dict[str, Any]:
    """The named fields of one raw access log line; RecordError if it is not one."""
    match = _LINE.match(line.strip())
    if match is None:
        raise RecordError(
            "not an S3 server access log line: expected owner, bucket, [time], remote IP, "
            'requester, request ID, operation, key, "request-URI", status, error code'
        )
    fields: dict[str, Any] = {k: v for k, v in match.groupdict().items() if k != "rest"}
    rest = match.group("rest") or ""
    for name, token in zip(_REST_FIELDS, _TOKEN.findall(rest), strict=False):
        fields[name] = token
    # "-" requester is an anonymous request: kept as "-" so it is told from "not logged".
    fields = {k: v if k == "requester" else _unquote(v) for k, v in fields.items()}
    fields["time"] = _text_time(match.group("time"))
    return fields


def _unquote(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return None if value in ("-", "") else value


def _text_time(value: str) -> datetime:
    try:
        # %b depends on the locale; AWS always writes English month names.
        day, month, rest = value.split("/", 2)
        month_number = _MONTHS.index(month) + 1
        parsed = datetime.strptime(f"{day}/{month_number:02d}/{rest}", "%d/%m/%Y:%H:%M:%S %z")
    except ValueError:
        raise RecordError(f"time {value[:40]!r} is not an access log time") from None
    return in_utc(parsed, "time")


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one access log record (named fields)."""
    item = require_object(item)
    bucket = _value(item, "bucket")
    if bucket is None:
        raise RecordError("not an S3 access log record: no bucket")
    raw_time = item.get("time")
    if raw_time is None:
        raise RecordError("time missing: an event without a time cannot be judged")
    event_time = raw_time if isinstance(raw_time, datetime) else parse_time(raw_time, "time")
    operation = _value(item, "operation")
    requester = _value(item, "requester")
    principal, aliases = _principal(requester)
    key = _value(item, "key")
    resources: list[str | None] = [bucket, f"arn:aws:s3:::{bucket}"]
    if key:
        resources.append(f"arn:aws:s3:::{bucket}/{key}")
    host = _value(item, "hostheader") or ""
    region = _REGION.search("." + host)
    request_id = _value(item, "requestid")
    return {
        "event_id": request_id or content_id(item),
        "event_time": event_time,
        "provider": "aws",
        "account": None,
        "region": region.group(1) if region else None,
        "service": "s3.amazonaws.com",
        "action": operation,
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": _principal_type(text(item, "requester")),
        "caller": _value(item, "remoteip"),
        "user_agent": _value(item, "useragent"),
        "resources": unique(resources),
        "read_only": _read_only(operation),
        "error_code": _error_code(item),
    }


def _value(item: dict[str, Any], key: str) -> str | None:
    value = text(item, key)
    return None if value == "-" else value


def _principal(requester: str | None) -> tuple[str | None, list[str]]:
    if requester is None:
        return None, []
    aliases: list[str | None] = []
    parts = requester.split(":", 5)
    if requester.startswith("arn:") and len(parts) == 6 and parts[5].startswith("assumed-role/"):
        _, role, *session = parts[5].split("/")
        aliases.append(f"arn:{parts[1]}:iam::{parts[4]}:role/{role}")
        aliases.extend(session)
    return requester, unique(aliases)


def _principal_type(requester: str | None) -> str | None:
    if requester is None:
        return None
    if requester == "-":
        return "Anonymous"
    if ":assumed-role/" in requester:
        return "AssumedRole"
    if ":user/" in requester:
        return "IAMUser"
    if requester.endswith(":root"):
        return "Root"
    if _CANONICAL_ID.match(requester):
        return "CanonicalUser"
    if not requester.startswith("arn:"):
        return "AWSService"
    return "Unknown"


def _read_only(operation: str | None) -> bool | None:
    if operation is None:
        return None
    if operation.startswith(_READ_PREFIXES):
        return True
    if operation.startswith(_WRITE_PREFIXES) or operation.startswith("S3."):
        return False
    return None


def _error_code(item: dict[str, Any]) -> str | None:
    code = _value(item, "errorcode")
    if code:
        return code
    status = item.get("httpstatus")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        return str(status)
    return None
