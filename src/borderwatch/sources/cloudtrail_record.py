"""One CloudTrail record (a decoded JSON object) to one canonical event row.

Pure functions: no I/O, no state. A record that cannot become a trustworthy event
raises RecordError with a reason a person can act on; the reader quarantines it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import msgspec


class RecordError(ValueError):
    """The record cannot be read as an event; the message says why."""


# requestParameters that name the resource a data event touched, by service.
_RESOURCE_PARAMETERS = (
    "bucketName",
    "tableName",
    "TableName",
    "resourceArn",
    "dBInstanceIdentifier",
    "dBClusterIdentifier",
    "dBSnapshotIdentifier",
    "dBClusterSnapshotIdentifier",
    "snapshotId",
    "volumeId",
)


def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one record (see model.events.EVENT_SCHEMA)."""
    if not isinstance(item, dict):
        raise RecordError(f"record is {_kind(item)}, expected a JSON object")
    record, envelope = _unwrap(item)
    if record.get("eventName") is None and record.get("eventSource") is None:
        raise RecordError("not a CloudTrail record: no eventName and no eventSource")
    identity = record.get("userIdentity")
    if identity is not None and not isinstance(identity, dict):
        raise RecordError(f"userIdentity is {_kind(identity)}, expected an object")
    identity = identity or {}
    principal, aliases = _principal(identity)
    return {
        "event_id": _text(record, "eventID") or _text(envelope, "id") or _record_hash(item),
        "event_time": _event_time(record, envelope),
        "provider": "aws",
        "account": _text(record, "recipientAccountId")
        or _text(identity, "accountId")
        or _text(envelope, "account"),
        "region": _text(record, "awsRegion") or _text(envelope, "region"),
        "service": _text(record, "eventSource"),
        "action": _text(record, "eventName"),
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": _text(identity, "type"),
        "caller": _caller(record),
        "user_agent": _text(record, "userAgent"),
        "resources": _resources(record),
        "read_only": _flag(record.get("readOnly")),
        "error_code": _text(record, "errorCode"),
    }


def _unwrap(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the CloudTrail record, the EventBridge envelope or {})."""
    detail = item.get("detail")
    if not isinstance(detail, dict) or not ("detail-type" in item or "source" in item):
        return item, {}
    if "eventName" in detail or "eventSource" in detail:
        return detail, item
    return item, {}


def _event_time(record: dict[str, Any], envelope: dict[str, Any]) -> datetime:
    # Logstash and similar shippers drop eventTime and keep their own @timestamp.
    for holder, key in ((record, "eventTime"), (record, "@timestamp"), (envelope, "time")):
        value = holder.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RecordError(f"{key} is {_kind(value)}, expected an ISO 8601 string")
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise RecordError(f"{key} {value[:40]!r} is not an ISO 8601 time") from None
        # CloudTrail times are UTC; a time without an offset is read as UTC.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise RecordError("eventTime is missing: an event without a time cannot be judged")


def _principal(identity: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The best identity string, and the other names the same principal goes by."""
    kind = _text(identity, "type")
    names: list[str | None] = [_text(identity, "arn")]
    if kind == "AWSService":
        names.insert(0, _text(identity, "invokedBy"))
    names.append(_text(identity, "userName"))
    issuer = _object(_object(identity, "sessionContext"), "sessionIssuer")
    names.extend([_text(issuer, "arn"), _text(issuer, "userName")])
    principal_id = _text(identity, "principalId")
    names.append(principal_id)
    if principal_id and ":" in principal_id:
        # AROA...:session-name — the session name is often the person's email or login.
        names.append(principal_id.split(":", 1)[1])
    on_behalf = _object(identity, "onBehalfOf")
    names.append(_text(on_behalf, "userId"))
    unique = list(dict.fromkeys(n for n in names if n))
    if not unique:
        return None, []
    return unique[0], unique[1:]


def _caller(record: dict[str, Any]) -> str | None:
    caller = _text(record, "sourceIPAddress")
    if caller is None:
        # Vendor-reshaped records (e.g. Datadog) move the caller to network.client.ip.
        caller = _text(_object(_object(record, "network"), "client"), "ip")
    return caller


def _resources(record: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    listed = record.get("resources")
    if isinstance(listed, list):
        for entry in listed:
            if isinstance(entry, dict):
                arn = entry.get("ARN") or entry.get("arn")
                if isinstance(arn, str):
                    keys.extend(resource_keys(arn))
    parameters = record.get("requestParameters")
    if isinstance(parameters, dict):
        for name in _RESOURCE_PARAMETERS:
            value = parameters.get(name)
            if isinstance(value, str) and value:
                keys.extend(resource_keys(value))
    return list(dict.fromkeys(keys))


def resource_keys(value: str) -> list[str]:
    """A resource identifier plus the shorter names an inventory may use for it.

    `arn:aws:s3:::bucket/key` gives the object ARN, the bucket ARN and `bucket`;
    `arn:aws:dynamodb:r:a:table/T` gives the ARN and `T`; a plain name gives itself.
    """
    value = value.strip()
    keys = [value]
    if not value.startswith("arn:"):
        return keys
    parts = value.split(":", 5)
    if len(parts) < 6:
        return keys
    service, resource = parts[2], parts[5]
    if service == "s3":
        bucket = resource.split("/", 1)[0]
        if bucket:
            keys.extend([f"arn:{parts[1]}:s3:::{bucket}", bucket])
        return keys
    # table/T, table/T/stream/..., db:name, cluster:name, snapshot:name
    for separator in ("/", ":"):
        if separator in resource:
            name = resource.split(separator, 2)[1]
            if name:
                keys.append(name)
            break
    return keys


def _text(holder: dict[str, Any], key: str) -> str | None:
    value = holder.get(key)
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"{key} is {_kind(value)}, expected a string")
    # Account ids are sometimes written as numbers by reshaping tools.
    return str(value)


def _object(holder: dict[str, Any], key: str) -> dict[str, Any]:
    value = holder.get(key)
    return value if isinstance(value, dict) else {}


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _record_hash(item: dict[str, Any]) -> str:
    """A stable id for a record without eventID: the hash of its canonical JSON."""
    digest = hashlib.sha256(msgspec.json.encode(item, order="sorted")).hexdigest()
    return "sha256:" + digest[:32]
