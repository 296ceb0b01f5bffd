"""What Kubernetes ran, from its audit log: the images of workloads created or changed.

Reads the same files as the access reader (sources/k8s_audit.py: JSON lines, an
EventList, EKS through CloudWatch Logs) and keeps the successful create, update and
patch requests on pods, deployments, replica sets, stateful sets, daemon sets, jobs and
cron jobs. The images come from the object the API server returned (`responseObject`,
audit level RequestResponse) or else the one sent (`requestObject`, level Request); a
JSON patch that sets `.../image` counts too. A request logged at Metadata level holds no
object: it becomes an artifact whose image is unknown (reference None), never nothing,
since what ran then cannot be shown to be reviewed.

Every stage of one request shares its auditID; a request is counted once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.model.events import QuarantinedRecord, excerpt_of
from borderwatch.model.oversight import DeployedArtifact
from borderwatch.sources.jsonvalues import DECODE_ERRORS, Damaged, json_values
from borderwatch.sources.k8s_audit import K8sAuditSource
from borderwatch.sources.k8s_images import ArtifactRead, container_images, image_artifact

FORMAT = "k8s-audit"
WORKLOADS = frozenset(
    {
        "pods",
        "deployments",
        "replicasets",
        "statefulsets",
        "daemonsets",
        "jobs",
        "cronjobs",
        "replicationcontrollers",
    }
)
_CHANGES = frozenset({"create", "update", "patch"})
# Subresources that can change what a pod runs; status, scale, binding... cannot.
_IMAGE_SUBRESOURCES = frozenset({"", "ephemeralcontainers"})


def is_k8s_audit(head: bytes) -> bool:
    """True when a file's first bytes look like a Kubernetes audit log."""
    return K8sAuditSource().sniff(Path(), head)


def read_k8s_deploys(path: Path) -> ArtifactRead:
    """The images of every workload change the audit log at `path` records."""
    result = ArtifactRead(str(path), "deployments", FORMAT)
    seen: set[str] = set()
    for item in json_values(path, K8sAuditSource.container_keys):
        result.records_read += 1
        if isinstance(item.value, Damaged):
            result.quarantined.append(_quarantine(path, item.position, item.value.reason, item.raw))
            continue
        event = _unwrap(item.value)
        if event is None:
            reason = "not a Kubernetes audit event (an object with verb and objectRef)"
            result.quarantined.append(_quarantine(path, item.position, reason, item.raw))
            continue
        result.accepted += 1
        audit_id = event.get("auditID")
        if isinstance(audit_id, str) and audit_id in seen:
            continue
        artifacts = list(_artifacts(event, f"{path} {item.position}"))
        if artifacts and isinstance(audit_id, str):
            seen.add(audit_id)
        result.artifacts.extend(artifacts)
    return result


def _unwrap(value: Any) -> dict[str, Any] | None:
    """The audit Event, also when EKS wrapped it as text in a CloudWatch log event."""
    if isinstance(value, dict) and isinstance(value.get("message"), str) and "verb" not in value:
        try:
            value = msgspec.json.decode(value["message"])
        except DECODE_ERRORS:
            return None
    if isinstance(value, dict) and isinstance(value.get("verb"), str):
        return value
    return None


def _artifacts(event: dict[str, Any], source: str) -> Iterator[DeployedArtifact]:
    ref = event.get("objectRef")
    if event["verb"] not in _CHANGES or not isinstance(ref, dict):
        return
    resource, subresource = ref.get("resource"), ref.get("subresource") or ""
    if not isinstance(resource, str) or not isinstance(subresource, str):
        return
    if resource not in WORKLOADS or subresource not in _IMAGE_SUBRESOURCES:
        return
    if _failed(event) or event.get("stage") in ("RequestReceived", "Panic"):
        return
    obj = event.get("responseObject") or event.get("requestObject")
    namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else None
    name = ref.get("name")
    if not isinstance(name, str) and isinstance(obj, dict):
        metadata = obj.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
    workload = f"{resource}/{namespace or '-'}/{name if isinstance(name, str) else '?'}"
    seen_at = _time(event)
    images = list(container_images(obj)) + list(_patched_images(obj))
    if obj is None:
        # Metadata level: the change is known, the image is not.
        yield DeployedArtifact(
            "image", workload, None, None, namespace, workload, "k8s-audit", source, seen_at
        )
        return
    for container, image in images:
        yield image_artifact(
            image,
            namespace=namespace or "default",
            workload=f"{workload} container={container}",
            origin="k8s-audit",
            source=source,
            seen_at=seen_at,
        )


def _patched_images(obj: Any) -> Iterator[tuple[str, str]]:
    """Images a JSON patch (a list of operations) sets directly."""
    if not isinstance(obj, list):
        return
    for op in obj:
        if (
            isinstance(op, dict)
            and isinstance(op.get("path"), str)
            and op["path"].endswith("/image")
            and isinstance(op.get("value"), str)
        ):
            yield op["path"], op["value"]


def _failed(event: dict[str, Any]) -> bool:
    status = event.get("responseStatus")
    code = status.get("code") if isinstance(status, dict) else None
    return isinstance(code, int) and not isinstance(code, bool) and code >= 400


def _time(event: dict[str, Any]) -> dt.datetime | None:
    for key in ("stageTimestamp", "requestReceivedTimestamp"):
        value = event.get(key)
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


def _quarantine(path: Path, position: str, reason: str, raw: bytes) -> QuarantinedRecord:
    return QuarantinedRecord(str(path), position, reason, excerpt_of(raw), FORMAT)
