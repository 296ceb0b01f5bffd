"""EBS snapshots owned by the account and the snapshots they were copied from.

store_id is the snapshot ARN; aliases carry the snapshot id. Volumes are not collected: tag
the snapshots (or copy volume tags to them) so their data classes are known. A copy is
recognised by SourceSnapshotId when the API gives it, else by the Description AWS writes:
"[Copied snap-X from REGION]" (CopySnapshot) or "... for SourceSnapshot snap-X." (AMI copy).
"""

from __future__ import annotations

import re
from typing import Any

from borderwatch.collect.aws.base import CollectedStore, Scope, data_classes_from_tags

SERVICE = "ec2"
NAME = "ebs"
GLOBAL = False

_COPIED_FROM = re.compile(r"Copied (snap-[0-9a-f]+) from ([a-z]{2}(?:-[a-z]+)+-\d+)")
_AMI_COPY = re.compile(r"for SourceSnapshot (snap-[0-9a-f]+)")
_SOURCE_ID = "ebs.source-snapshot"


def copy_source(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """(source snapshot id, source region or None) of a DescribeSnapshots item."""
    if item.get("SourceSnapshotId"):
        return str(item["SourceSnapshotId"]), item.get("SourceRegion")
    description = str(item.get("Description") or "")
    match = _COPIED_FROM.search(description)
    if match:
        return match.group(1), match.group(2)
    match = _AMI_COPY.search(description)
    if match:
        return match.group(1), None
    return None, None


def snapshot_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    snap = item["SnapshotId"]
    store = CollectedStore(
        scope.arn(SERVICE, region, f"snapshot/{snap}"),
        region,
        "ebs",
        data_classes=data_classes_from_tags(item.get("Tags")),
        aliases=(snap,),
    )
    source, source_region = copy_source(item)
    if source and source != snap:
        store.copy_kind = "snapshot-copy"
        if source_region:
            store.copy_of = scope.arn(SERVICE, source_region, f"snapshot/{source}")
        else:
            store.hints[_SOURCE_ID] = source
    return store


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    items = scope.items(SERVICE, region, "DescribeSnapshots", "Snapshots", OwnerIds=["self"])
    return [snapshot_store(scope, region, item) for item in items or []]


def finish(scope: Scope, stores: list[CollectedStore]) -> None:
    """Link copies whose source region is not in the description, by snapshot id."""
    by_snapshot = {s.aliases[0]: s for s in stores if s.service == "ebs" and s.aliases}
    for store in stores:
        source = store.hints.get(_SOURCE_ID)
        if not source or store.copy_of:
            continue
        found = by_snapshot.get(source)
        if found is not None:
            store.copy_of = found.store_id
        else:
            store.copy_kind = None
            store.notes.append(f"copy of {source}, which is not in the collected regions")
