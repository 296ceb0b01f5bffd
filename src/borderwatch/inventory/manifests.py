"""What is declared to run: Kubernetes manifests (YAML, several documents per file).

Every document (and every item of a `List`) that holds container lists gives one
artifact per container image. A manifest without `metadata.namespace` is taken to go to
`default`, as `kubectl apply` without `-n` does; docs/oversight.md says so. The file is
checked against the YAML limits (yamlbounds) before anything is built; a document that
does not parse is quarantined with its line, and the documents before it are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from borderwatch.model.events import QuarantinedRecord, excerpt_of
from borderwatch.model.oversight import DeployedArtifact
from borderwatch.sources.k8s_images import ArtifactRead, container_images, image_artifact
from borderwatch.yamlbounds import yaml_bounds_problem

FORMAT = "k8s-manifest"
_MAX_BYTES = 64 * 1024 * 1024


def read_manifests(path: Path) -> ArtifactRead:
    """The images of every workload the manifest file at `path` declares."""
    result = ArtifactRead(str(path), "deployments", FORMAT)
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise ValueError(f"larger than {_MAX_BYTES // (1024 * 1024)} MiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        result.records_read = 1
        result.quarantined.append(_quarantine(path, "whole file", f"cannot read: {exc}", ""))
        return result
    problem = yaml_bounds_problem(text, str(path))
    if problem is not None:
        result.records_read = 1
        where = f"line {problem.location.line}"
        result.quarantined.append(_quarantine(path, where, problem.message, ""))
        return result
    number = 0
    try:
        for number, document in enumerate(YAML(typ="safe").load_all(text), start=1):
            if document is None:
                continue
            result.records_read += 1
            result.accepted += 1
            for item in _objects(document):
                result.artifacts.extend(_artifacts(item, f"{path} document {number}"))
    except (YAMLError, ValueError, RecursionError) as exc:
        result.records_read += 1
        line = _line_of(exc)
        where = f"document {number + 1}" + (f", line {line}" if line else "")
        reason = "not YAML: " + _why(exc)
        result.quarantined.append(_quarantine(path, where, reason, ""))
    return result


def _objects(document: Any) -> Iterator[dict[str, Any]]:
    """The document, or the items of a List."""
    if not isinstance(document, dict):
        return
    items = document.get("items")
    if str(document.get("kind", "")).endswith("List") and isinstance(items, list):
        yield from (item for item in items if isinstance(item, dict))
    else:
        yield document


def _artifacts(obj: dict[str, Any], source: str) -> Iterator[DeployedArtifact]:
    found = obj.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    namespace = metadata.get("namespace")
    namespace = namespace if isinstance(namespace, str) and namespace else "default"
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else "?"
    kind = str(obj.get("kind") or "object").lower()
    for container, image in container_images(obj):
        yield image_artifact(
            image,
            namespace=namespace,
            workload=f"{kind}/{namespace}/{name} container={container}",
            origin="manifest",
            source=source,
        )


def _why(exc: Exception) -> str:
    if isinstance(exc, MarkedYAMLError):
        return "; ".join(part for part in (exc.context, exc.problem) if part) or "syntax error"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _line_of(exc: Exception) -> int | None:
    mark = getattr(exc, "problem_mark", None) if isinstance(exc, MarkedYAMLError) else None
    return mark.line + 1 if mark is not None else None


def _quarantine(path: Path, position: str, reason: str, raw: str) -> QuarantinedRecord:
    return QuarantinedRecord(str(path), position, reason, excerpt_of(raw), FORMAT)
