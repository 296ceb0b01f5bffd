"""GCP Cloud Audit Logs (Admin Activity and Data Access) as canonical events.

Shapes read (one LogEntry whose `protoPayload` is a `google.cloud.audit.AuditLog`):
- JSON lines, one LogEntry per line (`gcloud logging read --format=json` piped through
  `jq -c`, the Cloud Logging export to Cloud Storage, SIEM dumps);
- a JSON array of entries (`gcloud logging read --format=json`) or one pretty-printed entry;
- a container object `{"entries": [...]}` (the `entries.list` REST response);
- the BigQuery export and log shippers that lower-case top-level keys (`protopayload`,
  `insertid`, `receivetimestamp`) or rename the payload `protopayload_auditlog`.

The caller is `protoPayload.requestMetadata.callerIp` (also spelled `callerIP` in the
wild), kept exactly as logged: GCP writes non-addresses such as `private` and
`gce-internal-ip` there, which the caller classifier interprets.
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

NAME = "gcp-audit"

# google.rpc.Code names, for a readable error_code.
_RPC_CODES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
# Path collections whose member names an inventory lists as stores.
_STORE_COLLECTIONS = frozenset(
    {
        "buckets",
        "datasets",
        "tables",
        "instances",
        "databases",
        "clusters",
        "topics",
        "subscriptions",
        "keyRings",
        "cryptoKeys",
        "secrets",
        "repositories",
        "backups",
    }
)
_RESOURCE_LABELS = ("bucket_name", "dataset_id", "instance_id", "database_id", "topic_id")
_READ_VERBS = ("get", "list", "read", "search", "query", "lookup", "batchget", "export", "fetch")
_WRITE_VERBS = (
    "insert",
    "create",
    "update",
    "patch",
    "delete",
    "set",
    "put",
    "write",
    "add",
    "remove",
    "copy",
    "rewrite",
    "compose",
    "undelete",
    "enable",
    "disable",
    "import",
    "restore",
)


class GcpAuditSource(JsonRecordSource):
    """Reads GCP Cloud Audit Log entries into canonical events (see module docstring)."""

    name = NAME
    description = "GCP Cloud Audit Logs: LogEntry JSON lines, gcloud arrays, exports"
    container_keys = ("entries",)

    def recognises(self, head: bytes) -> bool:
        return any_marker(head, b'"protoPayload"', b'"protopayload_auditlog"') and any_marker(
            head, b"google.cloud.audit.AuditLog", b'"methodName"', b"cloudaudit.googleapis.com"
        )

    def normaliser(self, path: Path) -> Normaliser:
        return normalise


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one LogEntry (see model.events.EVENT_SCHEMA)."""
    entry = folded_object(item)
    payload = entry.get("protopayload", entry.get("protopayload_auditlog"))
    if payload is None:
        raise RecordError("not a Cloud Audit Log entry: no protoPayload")
    if not isinstance(payload, dict):
        raise RecordError(f"protoPayload is {kind_of(payload)}, expected an object")
    meta = optional_object(payload, "requestMetadata", "protoPayload.requestMetadata")
    auth = optional_object(payload, "authenticationInfo", "protoPayload.authenticationInfo")
    resource = optional_object(entry, "resource")
    labels = obj(resource, "labels")
    principal, aliases, kind = _principal(auth)
    method = text(payload, "methodName")
    return {
        "event_id": text(entry, "insertid") or content_id(item),
        # receiveTimestamp is when Cloud Logging received the entry (seconds later);
        # p_event_time is the event time a Panther export kept when it dropped the rest.
        "event_time": first_time(
            (entry.get("timestamp"), "timestamp"),
            (entry.get("receivetimestamp"), "receiveTimestamp"),
            (entry.get("p_event_time"), "p_event_time"),
        ),
        "provider": "gcp",
        "account": _account(entry, labels, payload),
        "region": _region(labels, payload),
        "service": text(payload, "serviceName"),
        "action": method,
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": kind,
        "caller": text(meta, "callerIp") or text(meta, "callerIP"),
        "claimed_country": None,
        "claimed_location": None,
        "user_agent": text(meta, "callerSuppliedUserAgent"),
        "resources": _resources(payload, labels),
        "read_only": read_method(method),
        "error_code": _error_code(payload),
    }


def _principal(auth: dict[str, Any]) -> tuple[str | None, list[str], str | None]:
    email = text(auth, "principalEmail")
    subject = text(auth, "principalSubject")
    names: list[str | None] = [email, subject]
    delegation = auth.get("serviceAccountDelegationInfo")
    if isinstance(delegation, list):
        for step in delegation:
            if isinstance(step, dict):
                for party in ("firstPartyPrincipal", "thirdPartyPrincipal"):
                    names.append(text(obj(step, party), "principalEmail"))
    kind = None
    if subject and ":" in subject:
        kind = subject.split(":", 1)[0]
    elif email:
        kind = "serviceAccount" if email.endswith(".gserviceaccount.com") else "user"
    return *principal_and_aliases(names), kind


def _account(entry: dict[str, Any], labels: dict[str, Any], payload: dict[str, Any]) -> str | None:
    project = text(labels, "project_id")
    if project:
        return project
    for name in (text(entry, "logname"), text(payload, "resourceName")):
        if name:
            parts = name.strip("/").split("/")
            for index, part in enumerate(parts[:-1]):
                scope = part in ("projects", "organizations", "folders", "billingAccounts")
                if scope and parts[index + 1] != "_":
                    return parts[index + 1]
    return None


def _region(labels: dict[str, Any], payload: dict[str, Any]) -> str | None:
    for key in ("location", "zone", "region"):
        value = text(labels, key)
        if value:
            return value
    current = obj(payload, "resourceLocation").get("currentLocations")
    if isinstance(current, list) and current and isinstance(current[0], str) and current[0]:
        return current[0]
    return None


def _resources(payload: dict[str, Any], labels: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    name = text(payload, "resourceName")
    if name:
        keys.extend(resource_keys(name))
    authorizations = payload.get("authorizationInfo")
    if isinstance(authorizations, list):
        for grant in authorizations:
            if isinstance(grant, dict) and isinstance(grant.get("resource"), str):
                keys.extend(resource_keys(grant["resource"]))
    for label in _RESOURCE_LABELS:
        value = labels.get(label)
        if isinstance(value, str) and value:
            keys.append(value)
    return list(dict.fromkeys(k for k in keys if k))


def resource_keys(name: str) -> list[str]:
    """A GCP resource name plus the store names an inventory uses for it.

    `projects/_/buckets/B/objects/O` gives the name, `projects/_/buckets/B` and `B`;
    `projects/P/datasets/D/tables/T` gives the name, `D`, `T` and `D.T`;
    `//storage.googleapis.com/projects/_/buckets/B` (a full resource name) also gives `B`.
    """
    name = name.strip()
    keys = [name]
    body = name.split("/", 3)[3] if name.startswith("//") and name.count("/") >= 3 else name
    parts = body.strip("/").split("/")
    found: dict[str, str] = {}
    for index in range(len(parts) - 1):
        collection, member = parts[index], parts[index + 1]
        if collection in _STORE_COLLECTIONS and member:
            found.setdefault(collection, member)
            if collection == "buckets":
                keys.append("/".join(parts[: index + 2]))
            keys.append(member)
    if "datasets" in found and "tables" in found:
        keys.append(f"{found['datasets']}.{found['tables']}")
    return list(dict.fromkeys(keys))


def read_method(method: str | None) -> bool | None:
    """True for a read (`storage.objects.get`, `...List`), False for a change, else None.

    The verb is the method's last dotted segment (`google.cloud.bigquery.v2.JobService.
    GetQueryResults` -> `getqueryresults`). Job inserts (BigQuery queries) are None: a
    query job may read or write.
    """
    if not method:
        return None
    verb = method.rsplit(".", 1)[-1].lower()
    if "job" in method.lower() and verb.startswith(("insert", "create")):
        return None
    if verb.startswith(_READ_VERBS):
        return True
    if verb.startswith(_WRITE_VERBS):
        return False
    return None


def _error_code(payload: dict[str, Any]) -> str | None:
    status = optional_object(payload, "status", "protoPayload.status")
    code = status.get("code")
    if code is None or isinstance(code, bool):
        return None
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        code = int(code)
    if not isinstance(code, int):
        raise RecordError(f"protoPayload.status.code is {kind_of(code)}, expected a number")
    if code == 0:
        return None
    return _RPC_CODES.get(code, str(code))
