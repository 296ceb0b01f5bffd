"""Read the oversight inputs of a scan, each accounted like every other input.

Reviews (signed statements, inventory/attestations.py), what runs (Kubernetes audit
logs, sources/k8s_deploys.py, or manifests, inventory/manifests.py, told apart by their
first bytes) and model stores (collect/modelstore.py). Folders are read file by file
through the same expansion as the event inputs (each file once, never a FIFO).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from borderwatch.collect.modelstore import read_model_store
from borderwatch.ingest.expansion import expand_all
from borderwatch.inventory.attestations import read_attestations
from borderwatch.inventory.manifests import read_manifests
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.oversight import DeployedArtifact, OversightRules, ReviewedSubject
from borderwatch.model.scan import InputSummary
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.k8s_deploys import is_k8s_audit, read_k8s_deploys
from borderwatch.sources.k8s_images import ArtifactRead


@dataclass
class OversightInputs:
    """What the reviews say and what runs, from every oversight input of one scan."""

    reviews: list[ReviewedSubject] = field(default_factory=list)
    artifacts: list[DeployedArtifact] = field(default_factory=list)
    # Which kinds of evidence of running artifacts the scan was given (for coverage).
    evidence: list[str] = field(default_factory=list)


def read_oversight(
    attestations: Sequence[Path],
    deployments: Sequence[Path],
    model_stores: Sequence[str],
    rules: OversightRules,
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
) -> OversightInputs:
    """Read every oversight input, adding each file's accounting to `inputs`."""
    found = OversightInputs()
    for path in _files(attestations):
        read = read_attestations(path, rules)
        found.reviews.extend(read.items)
        quarantined.extend(read.quarantined)
        envelopes = len({item.source for item in read.items})
        inputs.append(
            InputSummary(
                read.path,
                read.kind,
                "dsse-in-toto",
                envelopes + len(read.quarantined),
                envelopes,
                len(read.quarantined),
                note=f"{len(read.items)} reviewed subject(s)",
            )
        )
    for path in _files(deployments):
        reader = read_k8s_deploys if is_k8s_audit(head_bytes(path)) else read_manifests
        _add(found, reader(path), inputs, quarantined)
    for location in model_stores:
        _add(found, read_model_store(location), inputs, quarantined)
    return found


def _files(paths: Sequence[Path]) -> list[Path]:
    return [item.path for item in expand_all(list(paths)).files] if paths else []


def _add(
    found: OversightInputs,
    read: ArtifactRead,
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
) -> None:
    found.artifacts.extend(read.artifacts)
    found.evidence.append(read.format)
    quarantined.extend(read.quarantined)
    inputs.append(
        InputSummary(
            read.path,
            read.kind,
            read.format,
            read.records_read,
            read.accepted,
            len(read.quarantined),
            note=f"{len(read.artifacts)} artifact(s)",
        )
    )
