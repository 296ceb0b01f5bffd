"""One CloudTrail record (a decoded JSON object) to one canonical event row.

Pure functions: no I/O, no state. A record that cannot become a trustworthy event
raises RecordError with a reason a person can act on; the reader quarantines it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from borderwatch.sources.cloudtrail_items import item_names
from borderwatch.sources.record import (
    RecordError,
    content_id,
    first_time,
    flag,
    kind_of,
    obj,
    per_record,
    principal_and_aliases,
    text,
    text_at,
)

# requestParameters that name the resource a data event touched, by service.
RESOURCE_PARAMETERS = (
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


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one record (see model.events.EVENT_SCHEMA)."""
    if not isinstance(item, dict):
        raise RecordError(f"record is {kind_of(item)}, expected a JSON object")
    record, envelope = _unwrap(item)
    if record.get("eventName") is None and record.get("eventSource") is None:
        raise RecordError("not a CloudTrail record: no eventName and no eventSource")
    identity = record.get("userIdentity")
    if identity is not None and not isinstance(identity, dict):
        raise RecordError(f"userIdentity is {kind_of(identity)}, expected an object")
    identity = identity or {}
    principal, aliases = principal_of(identity)
    row: dict[str, Any] = {
        "event_id": text(record, "eventID") or text(envelope, "id") or content_id(item),
        "event_time": _event_time(record, envelope),
        "provider": "aws",
        "account": text(record, "recipientAccountId")
        or text(identity, "accountId")
        or text(envelope, "account"),
        "region": text(record, "awsRegion") or text(envelope, "region"),
        "service": text(record, "eventSource"),
        "action": text(record, "eventName"),
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": text(identity, "type"),
        "caller": _caller(record),
        "user_agent": text(record, "userAgent"),
        "resources": _resources(record),
        "read_only": flag(record.get("readOnly")),
        "error_code": text(record, "errorCode"),
    }
    parameters = record.get("requestParameters")
    if isinstance(parameters, dict):
        # DynamoDB items (cloudtrail_items.py), after every other name of the event.
        items = item_names(row["service"], parameters, row["region"], row["account"])
        if items:
            row["resources"] = list(dict.fromkeys([*row["resources"], *items]))
    return row


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
    return first_time(
        (record.get("eventTime"), "eventTime"),
        (record.get("@timestamp"), "@timestamp"),
        (envelope.get("time"), "time"),
    )


def principal_of(identity: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The best identity string, and the other names the same principal goes by."""
    kind = text(identity, "type")
    names: list[str | None] = [text(identity, "arn")]
    if kind == "AWSService":
        names.insert(0, text(identity, "invokedBy"))
    names.append(text(identity, "userName"))
    issuer = obj(obj(identity, "sessionContext"), "sessionIssuer")
    names.extend([text(issuer, "arn"), text(issuer, "userName")])
    principal_id = text(identity, "principalId")
    names.append(principal_id)
    if principal_id and ":" in principal_id:
        # AROA...:session-name — the session name is often the person's email or login.
        names.append(principal_id.split(":", 1)[1])
    on_behalf = obj(identity, "onBehalfOf")
    names.append(text(on_behalf, "userId"))
    return principal_and_aliases(names)


def _caller(record: dict[str, Any]) -> str | None:
    caller = text(record, "sourceIPAddress")
    if caller is None:
        # Vendor-reshaped records (e.g. Datadog) move the caller to network.client.ip.
        caller = text_at(record, "network", "client", "ip")
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
        for name in RESOURCE_PARAMETERS:
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
