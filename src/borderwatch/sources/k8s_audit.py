"""Kubernetes audit events (audit.k8s.io/v1 `Event`), including Amazon EKS.

Shapes read:
- JSON lines, one `Event` per line (the API server's log backend, SIEM exports);
- an `EventList` (`{"kind": "EventList", "items": [...]}`, the webhook backend), or a
  JSON array / single object;
- EKS control-plane logs as CloudWatch Logs delivers them through a subscription
  (`{"owner": ..., "logGroup": "/aws/eks/<cluster>/cluster", "logEvents": [{"message":
  "<event as JSON text>"}]}`, usually gzipped) or as `aws logs filter-log-events` prints
  them (`{"events": [...]}`).

Stages: every stage is kept as its own row, and all stages of one request share the
request's `auditID` as event_id, so counts of distinct events see the request once. A
`RequestReceived` row carries no outcome (error_code stays null), so a request logged
at that stage counts as an access even if it later failed: the conservative reading.
EKS's own audit policy omits that stage.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.sources.fields import require_object
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.jsondoc import Normaliser
from borderwatch.sources.jsonsource import JsonRecordSource
from borderwatch.sources.record import (
    RecordError,
    content_id,
    kind_of,
    obj,
    parse_time,
    per_record,
    text,
    text_at,
    unique,
)

NAME = "k8s-audit"

_READ_VERBS = frozenset({"get", "list", "watch"})
_WRITE_VERBS = frozenset(
    {"create", "update", "patch", "delete", "deletecollection", "bind", "escalate", "approve"}
)
_EKS_GROUP = re.compile(rb'"logGroup"\s*:\s*"/aws/eks/([^"/]+)/')
# Unescaped: an Event nested as text in another vendor's record (AKS diagnostics) is not one.
_API_VERSION = re.compile(rb'"apiVersion"\s*:\s*"audit\.k8s\.io/v1')
_KIND_EVENT = re.compile(rb'"kind"\s*:\s*"Event"\s*,\s*"(?:verb|apiVersion|level|auditID)"')
_OWNER = re.compile(rb'"owner"\s*:\s*"(\d{12})"')


class K8sAuditSource(JsonRecordSource):
    """Reads Kubernetes / EKS audit logs into canonical events (see module docstring)."""

    name = NAME
    description = "Kubernetes audit events (audit.k8s.io/v1), incl. EKS via CloudWatch Logs"
    container_keys = ("logEvents", "events", "items")

    def recognises(self, head: bytes) -> bool:
        if b'"eventSource"' in head or b'"protoPayload"' in head:
            return False
        if _API_VERSION.search(head) or _KIND_EVENT.search(head):
            return True
        # EKS via CloudWatch Logs: each event is JSON text inside a log event's message.
        return b'"logEvents"' in head and b"audit.k8s.io/v1" in head

    def normaliser(self, path: Path) -> Normaliser:
        # CloudWatch Logs names the cluster and account once, in the envelope.
        head = head_bytes(path)
        cluster = _EKS_GROUP.search(head)
        owner = _OWNER.search(head)
        envelope = {
            "cluster": cluster.group(1).decode("utf-8", "replace") if cluster else None,
            "account": owner.group(1).decode() if owner else None,
        }

        def normalise_one(item: Any) -> dict[str, Any]:
            return normalise(item, envelope)

        return normalise_one


@per_record
def normalise(item: Any, envelope: dict[str, Any] | None = None) -> dict[str, Any]:
    """The canonical columns of one audit Event (or one CloudWatch log event holding it)."""
    envelope = envelope or {}
    event, logged_at = _unwrap(require_object(item))
    if not any(key in event for key in ("verb", "auditID", "objectRef", "requestURI")):
        raise RecordError("not a Kubernetes audit event: no verb, auditID, objectRef or URI")
    user = obj(event, "user")
    principal, aliases = _principal(event, user)
    verb = text(event, "verb")
    via_eks = envelope.get("cluster") is not None
    return {
        "event_id": text(event, "auditID") or content_id(event),
        "event_time": _event_time(event, logged_at),
        "provider": "aws" if via_eks else "kubernetes",
        "account": envelope.get("account"),
        "region": None,
        "service": _service(event),
        "action": verb,
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": _principal_type(principal),
        "caller": _caller(event),
        "user_agent": text(event, "userAgent"),
        "resources": _resources(event, envelope.get("cluster")),
        "read_only": True if verb in _READ_VERBS else False if verb in _WRITE_VERBS else None,
        "error_code": _error_code(event),
    }


def _unwrap(item: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(the audit Event, the CloudWatch log event timestamp or None)."""
    message = item.get("message")
    if not isinstance(message, str) or "verb" in item:
        return item, None
    try:
        event = msgspec.json.decode(message)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise RecordError("CloudWatch log event message is not JSON (or too deep)") from None
    if not isinstance(event, dict):
        raise RecordError(f"CloudWatch log event message is {kind_of(event)}, expected an object")
    return event, item.get("timestamp")


def _event_time(event: dict[str, Any], logged_at: Any) -> datetime:
    for field in ("stageTimestamp", "requestReceivedTimestamp"):
        value = event.get(field)
        if value is not None:
            return parse_time(value, field)
    if logged_at is not None:
        return parse_time(logged_at, "timestamp", epoch=True)
    raise RecordError(
        "stageTimestamp or requestReceivedTimestamp missing: an event without a time "
        "cannot be judged"
    )


def _principal(event: dict[str, Any], user: dict[str, Any]) -> tuple[str | None, list[str]]:
    names: list[str | None] = [text(user, "username"), text(user, "uid")]
    extra = obj(user, "extra")
    # EKS maps IAM identities to Kubernetes users and keeps the IAM side in `extra`.
    for key in ("arn", "canonicalArn", "principalId", "sessionName"):
        values = extra.get(key)
        if isinstance(values, list):
            names.extend(v for v in values if isinstance(v, str))
    impersonated = text_at(event, "impersonatedUser", "username")
    known = unique(names)
    if impersonated:
        # The request acted as the impersonated user; the real caller stays an alias.
        return impersonated, unique([*known])
    if not known:
        return None, []
    return known[0], known[1:]


def _principal_type(principal: str | None) -> str | None:
    if principal is None:
        return None
    if principal.startswith("system:serviceaccount:"):
        return "ServiceAccount"
    if principal.startswith("system:node:"):
        return "Node"
    if principal == "system:anonymous":
        return "Anonymous"
    if principal.startswith("system:"):
        return "System"
    return "User"


def _service(event: dict[str, Any]) -> str:
    group = text_at(event, "objectRef", "apiGroup")
    return f"kubernetes/{group}" if group else "kubernetes"


def _caller(event: dict[str, Any]) -> str | None:
    addresses = event.get("sourceIPs")
    if addresses is None:
        return None
    if not isinstance(addresses, list):
        raise RecordError(f"sourceIPs is {kind_of(addresses)}, expected a list")
    # The first address is the client as the API server saw it (proxies follow).
    for address in addresses:
        if isinstance(address, str) and address:
            return address
    return None


def _resources(event: dict[str, Any], cluster: str | None) -> list[str]:
    ref = obj(event, "objectRef")
    resource = text(ref, "resource")
    namespace = text(ref, "namespace")
    name = text(ref, "name")
    keys: list[str | None] = []
    if resource and name:
        keys.append(f"{namespace}/{resource}/{name}" if namespace else f"{resource}/{name}")
    keys.append(name)
    if namespace:
        keys.append(f"namespace/{namespace}")
    if cluster:
        keys.append(f"eks/{cluster}")
    return unique(keys)


def _error_code(event: dict[str, Any]) -> str | None:
    status = obj(event, "responseStatus")
    code = status.get("code")
    failed = isinstance(code, int) and not isinstance(code, bool) and code >= 400
    if not failed and text(status, "status") != "Failure":
        return None
    return text(status, "reason") or (str(code) if code is not None else "Failure")
