"""ElastiCache replication groups and standalone cache clusters; global datastore secondaries.

store_id is the ARN. A replication group that is a secondary member of a global datastore
is a replication copy of the primary member.
"""

from __future__ import annotations

from typing import Any

from borderwatch.collect.aws.base import CollectedStore, Scope, data_classes_from_tags

SERVICE = "elasticache"
GLOBAL = False


def _with_tags(scope: Scope, region: str, store: CollectedStore) -> CollectedStore:
    tags = scope.call(
        SERVICE, region, "ListTagsForResource", what=store.store_id, ResourceName=store.store_id
    )
    if tags is None:
        store.notes.append("tags unreadable: data classes unknown")
    else:
        store.data_classes = data_classes_from_tags(tags.get("TagList"))
    return store


def group_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    ident = item["ReplicationGroupId"]
    arn = item.get("ARN") or scope.arn(SERVICE, region, f"replicationgroup:{ident}")
    endpoint = ((item.get("ConfigurationEndpoint") or {}).get("Address")) or next(
        (
            (g.get("PrimaryEndpoint") or {}).get("Address")
            for g in item.get("NodeGroups") or []
            if g.get("PrimaryEndpoint")
        ),
        None,
    )
    aliases = tuple(a for a in (ident, endpoint) if a)
    return CollectedStore(arn, region, SERVICE, aliases=aliases)


def cluster_store(scope: Scope, region: str, item: dict[str, Any]) -> CollectedStore:
    ident = item["CacheClusterId"]
    arn = item.get("ARN") or scope.arn(SERVICE, region, f"cluster:{ident}")
    endpoint = (item.get("ConfigurationEndpoint") or {}).get("Address")
    return CollectedStore(arn, region, SERVICE, aliases=tuple(a for a in (ident, endpoint) if a))


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    stores: list[CollectedStore] = []
    groups = scope.items(SERVICE, region, "DescribeReplicationGroups", "ReplicationGroups")
    for item in groups or []:
        stores.append(_with_tags(scope, region, group_store(scope, region, item)))
    clusters = scope.items(SERVICE, region, "DescribeCacheClusters", "CacheClusters")
    for item in clusters or []:
        if item.get("ReplicationGroupId"):
            continue  # a node of a replication group collected above
        stores.append(_with_tags(scope, region, cluster_store(scope, region, item)))
    _link_global(scope, region, stores)
    return stores


def _link_global(scope: Scope, region: str, stores: list[CollectedStore]) -> None:
    """Secondary members of global datastores in this region copy the primary member."""
    if not stores:
        return
    response = scope.call(SERVICE, region, "DescribeGlobalReplicationGroups", ShowMemberInfo=True)
    ours = {s.store_id: s for s in stores}
    for group in (response or {}).get("GlobalReplicationGroups") or []:
        members = group.get("Members") or []
        primary = next((m for m in members if m.get("Role") == "PRIMARY"), None)
        if primary is None:
            continue
        primary_arn = scope.arn(
            SERVICE,
            primary["ReplicationGroupRegion"],
            f"replicationgroup:{primary['ReplicationGroupId']}",
        )
        for member in members:
            arn = scope.arn(
                SERVICE,
                member.get("ReplicationGroupRegion", ""),
                f"replicationgroup:{member.get('ReplicationGroupId')}",
            )
            store = ours.get(arn)
            if store is not None and member.get("Role") == "SECONDARY":
                store.copy_of, store.copy_kind = primary_arn, "replication"
