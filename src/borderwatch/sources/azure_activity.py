"""Azure Activity Log (and Azure Monitor resource logs of the same envelope) as events.

Shapes read:
- the Event Hub / storage-account export: `{"records": [...]}` (also as JSON lines, one
  record per line), with `time`, `resourceId`, `operationName`, `category`,
  `resultType`, `callerIpAddress`, `identity.claims`, `location`, `properties`;
- resource logs in the same envelope, e.g. Storage `StorageRead`/`StorageWrite` with
  `statusCode`, `properties.accountName`, `properties.objectKey`;
- the REST API / `az monitor activity-log list` shape: `{"value": [...]}` or a JSON
  array, with `eventTimestamp`, `caller`, `httpRequest.clientIpAddress`, and
  `operationName`/`status`/`category` as `{"value": ..., "localizedValue": ...}`.

Top-level keys are matched without regard to case (Panther and others lower-case them).
Entra ID (Azure AD) sign-in and audit logs share the envelope but are a separate
format (`entra`); this reader's sniff leaves them alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from borderwatch.sources.fields import any_marker, folded_object, optional_object
from borderwatch.sources.jsondoc import Normaliser
from borderwatch.sources.jsonsource import JsonRecordSource
from borderwatch.sources.record import (
    RecordError,
    content_id,
    first_time,
    kind_of,
    obj,
    per_record,
    principal_and_aliases,
    text,
)

NAME = "azure-activity"
# Azure Monitor's envelope: `records` in diagnostic exports, `value` in REST lists. Entra
# ID logs travel in the same envelope.
ENVELOPE_KEYS = ("records", "value")

# Markers of Entra ID sign-in/audit logs, which the `entra` reader owns.
ENTRA_MARKERS = (
    b"microsoft.aadiam",
    b'"signinlogs"',
    b'"noninteractiveusersigninlogs"',
    b'"serviceprincipalsigninlogs"',
    b'"managedidentitysigninlogs"',
    b'"auditlogs"',
    b'"azureactivedirectoryeventtype"',
)
_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
_PRINCIPAL_CLAIMS = (
    _CLAIM + "upn",
    "upn",
    _CLAIM + "emailaddress",
    "name",
    _CLAIM + "name",
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "oid",
    "appid",
)
_FAILED = frozenset({"failed", "failure", "error"})


class AzureActivitySource(JsonRecordSource):
    """Reads Azure Activity Log records into canonical events (see module docstring)."""

    name = NAME
    description = "Azure Activity Log: Event Hub 'records' exports, REST 'value' lists, lines"
    container_keys = ENVELOPE_KEYS

    def recognises(self, head: bytes) -> bool:
        if is_entra(head):
            return False
        return any_marker(head, b'"operationName"') and any_marker(
            head, b'"callerIpAddress"', b'"resourceId"', b'"eventTimestamp"'
        )

    def normaliser(self, path: Path) -> Normaliser:
        return normalise


def is_entra(head: bytes) -> bool:
    """Whether a file's head holds Entra ID sign-in or audit logs (see ENTRA_MARKERS)."""
    return any_marker(head, *ENTRA_MARKERS)


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one Activity Log record (see EVENT_SCHEMA)."""
    record = folded_object(item)
    operation = value_text(record, "operationname")
    if operation is None:
        raise RecordError("not an Azure Activity Log record: no operationName")
    identity = optional_object(record, "identity")
    properties = optional_object(record, "properties")
    http = optional_object(record, "httprequest", "httpRequest")
    resource_id = text(record, "resourceid")
    principal, aliases, kind = _principal(record, identity)
    return {
        "event_id": text(record, "eventdataid") or text(record, "id") or content_id(item),
        "event_time": first_time(
            (record.get("time"), "time"),
            (record.get("eventtimestamp"), "eventTimestamp"),
            (record.get("p_event_time"), "p_event_time"),
        ),
        "provider": "azure",
        "account": subscription_of(resource_id)
        or text(record, "subscriptionid")
        or text(record, "tenantid"),
        "region": text(record, "location"),
        "service": value_text(record, "resourceprovidername") or _namespace(operation, resource_id),
        "action": operation,
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": kind,
        "caller": text(record, "calleripaddress") or text(http, "clientIpAddress"),
        "claimed_country": None,
        "claimed_location": None,
        "user_agent": text(properties, "userAgentHeader") or text(properties, "userAgent"),
        "resources": _resources(resource_id, properties),
        "read_only": _read_only(operation, value_text(record, "category")),
        "error_code": _error_code(record, properties),
    }


def value_text(record: dict[str, Any], key: str) -> str | None:
    """record[key] as text, or its `value` when the REST API wrote {value, localizedValue}."""
    value = record.get(key)
    if isinstance(value, dict):
        inner = value.get("value")
        if inner is None or isinstance(inner, str):
            return inner or None
        raise RecordError(f"{key}.value is {kind_of(inner)}, expected a string")
    return text(record, key)


def _principal(
    record: dict[str, Any], identity: dict[str, Any]
) -> tuple[str | None, list[str], str | None]:
    claims = obj(identity, "claims")
    names: list[str | None] = [text(record, "caller")]
    names.extend(text(claims, claim) for claim in _PRINCIPAL_CLAIMS)
    requester = obj(identity, "requester")  # Storage resource logs
    names.extend(text(requester, key) for key in ("upn", "objectId", "appId"))
    evidence = obj(obj(identity, "authorization"), "evidence")
    names.append(text(evidence, "principalId"))
    kind = text(evidence, "principalType") or text(identity, "type")
    return *principal_and_aliases(names), kind


def subscription_of(resource_id: str | None) -> str | None:
    """The subscription id in `/subscriptions/<id>/...`, any case; else None."""
    if not resource_id:
        return None
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1] or None
    return None


def _namespace(operation: str, resource_id: str | None) -> str | None:
    if "/" in operation:
        return operation.split("/", 1)[0]
    if resource_id:
        parts = resource_id.strip("/").split("/")
        for index, part in enumerate(parts[:-1]):
            if part.lower() == "providers":
                return parts[index + 1]
    return None


def resource_keys(resource_id: str) -> list[str]:
    """An Azure resource id plus the names an inventory uses for it.

    `/subscriptions/S/resourceGroups/G/providers/Microsoft.Storage/storageAccounts/acct/
    blobServices/default` gives the id, the top resource's id and name (`acct`) and the
    last name (`default`).
    """
    resource_id = resource_id.strip()
    keys = [resource_id]
    parts = resource_id.strip("/").split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() != "providers":
            continue
        # providers/<Namespace>/<type>/<name>[/<type>/<name>...]
        names = parts[index + 3 :: 2]
        if names and names[0]:
            top = "/" + "/".join(parts[: index + 4])
            keys.extend([top, names[0]])
        if names and names[-1]:
            keys.append(names[-1])
        break
    return list(dict.fromkeys(keys))


def _resources(resource_id: str | None, properties: dict[str, Any]) -> list[str]:
    keys = resource_keys(resource_id) if resource_id else []
    account = text(properties, "accountName")
    if account:
        keys.append(account)
    object_key = text(properties, "objectKey")
    if object_key:
        # Storage logs: /account/container/blob
        parts = object_key.strip("/").split("/")
        if len(parts) >= 2:
            keys.extend([parts[0], f"{parts[0]}/{parts[1]}"])
    return list(dict.fromkeys(keys))


def _read_only(operation: str, category: str | None) -> bool | None:
    verb = operation.rsplit("/", 1)[-1].lower()
    if "/" in operation:
        if verb == "read":
            return True
        if verb in ("write", "delete", "action"):
            return False
    if category:
        if category.lower() == "storageread":
            return True
        if category.lower() in ("storagewrite", "storagedelete"):
            return False
    if verb.startswith(("get", "list", "read", "query")):
        return True
    return None


def _error_code(record: dict[str, Any], properties: dict[str, Any]) -> str | None:
    result = value_text(record, "status") or text(record, "resulttype")
    status_code = record.get("statuscode", properties.get("statusCode"))
    failed_http = False
    if isinstance(status_code, int | str) and not isinstance(status_code, bool):
        code_text = str(status_code).strip()
        failed_http = code_text.isdigit() and int(code_text) >= 400
    if not failed_http and (result is None or result.lower() not in _FAILED):
        return None
    sub_status = value_text(record, "substatus")
    return (
        sub_status
        or text(record, "statustext")
        or (str(status_code) if failed_http else None)
        or text(record, "resultsignature")
        or result
    )
