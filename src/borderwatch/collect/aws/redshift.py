"""Redshift clusters and their snapshots; snapshots copied from another region are copies.

store_id is the ARN (cluster `cluster:ID`, snapshot `snapshot:CLUSTER/SNAPSHOT`).
"""

from __future__ import annotations

from typing import Any

from borderwatch.collect.aws.base import CollectedStore, Scope, data_classes_from_tags

SERVICE = "redshift"
GLOBAL = False


def cluster_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    ident = item["ClusterIdentifier"]
    arn = scope.arn(SERVICE, region, f"cluster:{ident}")
    endpoint = (item.get("Endpoint") or {}).get("Address")
    store = CollectedStore(
        arn,
        region,
        SERVICE,
        data_classes=data_classes_from_tags(item.get("Tags")),
        aliases=tuple(a for a in (ident, endpoint, item.get("ClusterNamespaceArn")) if a),
    )
    copy = item.get("ClusterSnapshotCopyStatus") or {}
    if copy.get("DestinationRegion"):
        store.notes.append(f"copies snapshots to {copy['DestinationRegion']}")
    return store


def snapshot_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    cluster = item.get("ClusterIdentifier", "")
    ident = item["SnapshotIdentifier"]
    arn = scope.arn(SERVICE, region, f"snapshot:{cluster}/{ident}")
    store = CollectedStore(
        arn,
        region,
        SERVICE,
        data_classes=data_classes_from_tags(item.get("Tags")),
        aliases=(ident,),
    )
    if cluster:
        source_region = item.get("SourceRegion") or region
        store.copy_of = scope.arn(SERVICE, source_region, f"cluster:{cluster}")
        store.copy_kind = "snapshot-copy" if source_region != region else "snapshot"
    return store


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    stores = [
        cluster_store(scope, region, item)
        for item in scope.items(SERVICE, region, "DescribeClusters", "Clusters") or []
    ]
    snapshots = scope.items(
        SERVICE, region, "DescribeClusterSnapshots", "Snapshots", OwnerAccount=scope.account
    )
    stores.extend(snapshot_store(scope, region, item) for item in snapshots or [])
    return stores


def finish(scope: Scope, stores: list[CollectedStore]) -> None:
    """A snapshot of a deleted cluster keeps only its own tags (no dangling copy_of)."""
    ids = {s.store_id for s in stores}
    for store in stores:
        if store.service == SERVICE and store.copy_of and store.copy_of not in ids:
            store.notes.append(f"source cluster {store.copy_of} not collected (deleted?)")
            store.copy_of = store.copy_kind = None
