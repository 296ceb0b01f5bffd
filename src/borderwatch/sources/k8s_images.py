"""Container images in Kubernetes objects: references parsed, pod specs walked.

Shared by the audit-log reader of deploys (sources/k8s_deploys.py) and the manifest
reader (inventory/manifests.py), so both see the same images in the same object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.oversight import DeployedArtifact

# Where a pod spec lists its containers; workloads nest the pod spec at different depths
# (a Deployment's spec.template.spec, a CronJob's spec.jobTemplate.spec.template.spec).
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_MAX_DEPTH = 32
_DIGEST = re.compile(r"^sha256:([0-9a-fA-F]{64})$")


@dataclass(frozen=True)
class ImageReference:
    """`[registry/]repository[:tag][@sha256:digest]` taken apart."""

    name: str  # registry and repository, as written
    tag: str | None
    digest: str | None  # sha256 hex, lower-case; None when pinned by no sha256 digest


def parse_image(reference: str) -> ImageReference:
    """Split an image reference; the name is kept as written (no default registry added),
    so it compares with a review's subject name written the same way."""
    text = reference.strip()
    name, _, pinned = text.partition("@")
    match = _DIGEST.match(pinned)
    digest = match.group(1).lower() if match else None
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:  # a colon before the last slash is a registry's port
        name, tag = name[:colon], name[colon + 1 :]
    return ImageReference(name, tag or None, digest)


def container_images(value: Any, depth: int = 0) -> Iterator[tuple[str, str]]:
    """(container name, image) of every container list anywhere in `value`."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _CONTAINER_LISTS and isinstance(item, list):
                for container in item:
                    if isinstance(container, dict) and isinstance(container.get("image"), str):
                        name = container.get("name")
                        yield (name if isinstance(name, str) else "?"), container["image"]
            else:
                yield from container_images(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from container_images(item, depth + 1)


def image_artifact(
    image: str,
    *,
    namespace: str,
    workload: str,
    origin: Any,
    source: str,
    seen_at: Any = None,
) -> DeployedArtifact:
    """One running image as a DeployedArtifact."""
    parsed = parse_image(image)
    return DeployedArtifact(
        kind="image",
        name=parsed.name,
        digest=parsed.digest,
        reference=image,
        namespace=namespace,
        workload=workload,
        origin=origin,
        source=source,
        seen_at=seen_at,
    )


@dataclass
class ArtifactRead:
    """What one input of running artifacts gave: records read = accepted + quarantined;
    an accepted record may name no artifact (an audit event of another resource)."""

    path: str
    kind: str
    format: str
    records_read: int = 0
    accepted: int = 0
    artifacts: list[DeployedArtifact] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
