"""RDS instances, Aurora clusters, their read replicas, snapshots and snapshot copies.

store_id is the resource ARN: identifiers repeat across regions (a cross-region read replica
or snapshot copy may have the source's name). Aliases carry the identifier and endpoint.
"""

from __future__ import annotations

from typing import Any

from borderwatch.collect.aws.base import CollectedStore, Scope, arn_region, data_classes_from_tags

SERVICE = "rds"
GLOBAL = False

_LINK_BY_INSTANCE = "rds.snapshot-instance"
_LINK_BY_CLUSTER = "rds.snapshot-cluster"


def _source_arn(scope: Scope, region: str, kind: str, value: str | None) -> str | None:
    """A source given as an ARN (cross-region) or a bare identifier (same region)."""
    if not value:
        return None
    return value if value.startswith("arn:") else scope.arn(SERVICE, region, f"{kind}:{value}")


def _tags(scope: Scope, region: str, item: dict[str, Any], arn: str) -> tuple[str, ...] | None:
    if "TagList" in item:
        return data_classes_from_tags(item["TagList"])
    response = scope.call(SERVICE, region, "ListTagsForResource", what=arn, ResourceName=arn)
    return None if response is None else data_classes_from_tags(response.get("TagList"))


def _arn(scope: Scope, region: str, given: Any, resource: str) -> str:
    """The ARN the API gave, or one built from the identifier when it gave none."""
    if isinstance(given, str) and given.startswith("arn:"):
        return given
    return scope.arn(SERVICE, region, resource)


def _store(
    scope: Scope, region: str, item: dict[str, Any], arn: str, aliases: list[Any]
) -> CollectedStore:
    classes = _tags(scope, region, item, arn)
    store = CollectedStore(
        arn,
        arn_region(arn) or region,
        SERVICE,
        data_classes=classes or (),
        aliases=tuple(dict.fromkeys(a for a in aliases if isinstance(a, str) and a and a != arn)),
    )
    if classes is None:
        store.notes.append("tags unreadable: data classes unknown")
    return store


def instance_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    """One DBInstances item; a read replica points at its source instance or cluster."""
    ident = item["DBInstanceIdentifier"]
    arn = _arn(scope, region, item.get("DBInstanceArn"), f"db:{ident}")
    endpoint = (item.get("Endpoint") or {}).get("Address")
    store = _store(scope, region, item, arn, [ident, endpoint])
    source = _source_arn(scope, region, "db", item.get("ReadReplicaSourceDBInstanceIdentifier"))
    source = source or _source_arn(
        scope, region, "cluster", item.get("ReadReplicaSourceDBClusterIdentifier")
    )
    if source:
        store.copy_of, store.copy_kind = source, "read-replica"
    return store


def cluster_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    """One DBClusters item; a cross-region replica cluster points at its source."""
    ident = item["DBClusterIdentifier"]
    arn = _arn(scope, region, item.get("DBClusterArn"), f"cluster:{ident}")
    store = _store(
        scope, region, item, arn, [ident, item.get("Endpoint"), item.get("ReaderEndpoint")]
    )
    source = item.get("ReplicationSourceIdentifier")
    if source:
        store.copy_of = _source_arn(scope, region, "cluster", source)
        store.copy_kind = "read-replica"
    if item.get("GlobalClusterIdentifier") and not source:
        store.notes.append(f"member of global database {item['GlobalClusterIdentifier']}")
    return store


def snapshot_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    """One DBSnapshots item: a snapshot of its instance, or a copy of another snapshot."""
    ident = item["DBSnapshotIdentifier"]
    arn = _arn(scope, region, item.get("DBSnapshotArn"), f"snapshot:{ident}")
    store = _store(scope, region, item, arn, [ident])
    source = item.get("SourceDBSnapshotIdentifier")
    if source:
        store.copy_of = _source_arn(scope, item.get("SourceRegion") or region, "snapshot", source)
        store.copy_kind = "snapshot-copy"
    elif item.get("DBInstanceIdentifier"):
        store.copy_of = scope.arn(SERVICE, store.region, f"db:{item['DBInstanceIdentifier']}")
        store.copy_kind = "snapshot"
        store.hints[_LINK_BY_INSTANCE] = item["DBInstanceIdentifier"]
    return store


def cluster_snapshot_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    """One DBClusterSnapshots item: a snapshot of its cluster, or a copy of another."""
    ident = item["DBClusterSnapshotIdentifier"]
    arn = _arn(scope, region, item.get("DBClusterSnapshotArn"), f"cluster-snapshot:{ident}")
    store = _store(scope, region, item, arn, [ident])
    source = item.get("SourceDBClusterSnapshotArn")
    if source and source != arn:
        store.copy_of, store.copy_kind = source, "snapshot-copy"
    elif item.get("DBClusterIdentifier"):
        store.copy_of = scope.arn(SERVICE, store.region, f"cluster:{item['DBClusterIdentifier']}")
        store.copy_kind = "snapshot"
        store.hints[_LINK_BY_CLUSTER] = item["DBClusterIdentifier"]
    return store


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    stores: list[CollectedStore] = []
    clusters = scope.items(SERVICE, region, "DescribeDBClusters", "DBClusters") or []
    members: dict[str, CollectedStore] = {}
    for item in clusters:
        store = cluster_store(scope, region, item)
        stores.append(store)
        for member in item.get("DBClusterMembers") or []:
            members[member.get("DBInstanceIdentifier", "")] = store
    for item in scope.items(SERVICE, region, "DescribeDBInstances", "DBInstances") or []:
        cluster = members.get(item["DBInstanceIdentifier"])
        if cluster is not None:
            # Aurora instances share their cluster's storage: the cluster is the store.
            endpoint = (item.get("Endpoint") or {}).get("Address")
            extra = [a for a in (item["DBInstanceIdentifier"], endpoint) if a]
            cluster.aliases = tuple(dict.fromkeys([*cluster.aliases, *extra]))
            continue
        stores.append(instance_store(scope, region, item))
    for item in scope.items(SERVICE, region, "DescribeDBSnapshots", "DBSnapshots") or []:
        stores.append(snapshot_store(scope, region, item))
    for item in (
        scope.items(SERVICE, region, "DescribeDBClusterSnapshots", "DBClusterSnapshots") or []
    ):
        stores.append(cluster_snapshot_store(scope, region, item))
    return stores


def finish(scope: Scope, stores: list[CollectedStore]) -> None:
    """Link snapshot copies the API did not describe as copies.

    A snapshot copied from another region should carry SourceDBSnapshotIdentifier and
    SourceRegion; when it does not (some emulators, older API responses) but names an
    instance (or cluster) that exists only in another region, it is linked to that instance
    as a snapshot-copy, and the store says so in a note.
    """
    ids = {s.store_id for s in stores}
    by_name: dict[tuple[str, str], list[CollectedStore]] = {}
    for s in stores:
        if s.service != SERVICE or s.copy_kind == "snapshot" or s.copy_kind == "snapshot-copy":
            continue
        kind = "cluster" if ":cluster:" in s.store_id else "db"
        name = s.store_id.rsplit(":", 1)[-1]
        by_name.setdefault((kind, name), []).append(s)
    for s in stores:
        for hint, kind in ((_LINK_BY_INSTANCE, "db"), (_LINK_BY_CLUSTER, "cluster")):
            wanted = s.hints.get(hint)
            if not wanted or s.copy_of in ids:
                continue
            name = str(wanted)
            candidates = [c for c in by_name.get((kind, name), []) if c.region != s.region]
            if len(candidates) == 1:
                s.copy_of, s.copy_kind = candidates[0].store_id, "snapshot-copy"
                s.notes.append(
                    f"linked by {'DBInstanceIdentifier' if kind == 'db' else 'DBClusterIdentifier'}"
                    f" {name!r}: the API reported no source snapshot for this copy"
                )
            elif len(candidates) > 1:
                s.notes.append(f"source not linked: {name!r} exists in several other regions")
            else:
                listed = "DescribeDBInstances" if kind == "db" else "DescribeDBClusters"
                why = (
                    f"{listed} failed"
                    if any(g.service == SERVICE and g.operation == listed for g in scope.gaps)
                    else "deleted?"
                )
                s.notes.append(
                    f"source {kind} {name!r} not found in the collected regions ({why}); "
                    "the snapshot carries only its own tags"
                )
                s.copy_of = s.copy_kind = None
