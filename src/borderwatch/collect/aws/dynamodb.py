"""DynamoDB tables and their global-table replicas (2019.11.21 Replicas and legacy 2017.11.29).

store_id is the table ARN: a replica in another region has the same table name. The table
name is an alias of the source table only (a log naming "users" means the source's region).
Global tables are multi-writer; the member that carries data-class tags is taken as the
source (else the first region alphabetically) and the others are global-table-replica copies.
"""

from __future__ import annotations

from typing import Any

from borderwatch.collect.aws.base import CollectedStore, Scope, arn_region, data_classes_from_tags

SERVICE = "dynamodb"
GLOBAL = False

_GROUP = "dynamodb.replica-regions"
_LEGACY = "2017.11.29"


def replica_regions(table: dict[str, Any]) -> list[str]:
    """Regions of a DescribeTable `Table`'s Replicas (2019.11.21 global tables)."""
    return [r["RegionName"] for r in table.get("Replicas") or [] if r.get("RegionName")]


def legacy_regions(description: dict[str, Any]) -> list[str]:
    """Regions of a DescribeGlobalTable `GlobalTableDescription` (2017.11.29 global tables)."""
    group = description.get("ReplicationGroup") or []
    return [r["RegionName"] for r in group if r.get("RegionName")]


def table_store(scope: Scope, region: str, table: dict[str, Any]) -> CollectedStore:
    """One DescribeTable `Table` (tags are added by the caller)."""
    name = table["TableName"]
    arn = table.get("TableArn") or scope.arn(SERVICE, region, f"table/{name}")
    count = table.get("ItemCount")
    store = CollectedStore(
        arn,
        arn_region(arn) or region,
        SERVICE,
        records=int(count) if isinstance(count, int) else None,
        aliases=(name,),
    )
    regions = replica_regions(table)
    if regions:
        store.hints[_GROUP] = regions
    return store


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    names = scope.items(SERVICE, region, "ListTables", "TableNames") or []
    stores = []
    for name in names:
        described = scope.call(SERVICE, region, "DescribeTable", what=name, TableName=name)
        if not described:
            continue
        table = described["Table"]
        store = table_store(scope, region, table)
        if table.get("GlobalTableVersion") == _LEGACY:
            legacy = scope.call(
                SERVICE, region, "DescribeGlobalTable", what=name, GlobalTableName=name
            )
            if legacy:
                regions = legacy_regions(legacy.get("GlobalTableDescription") or {})
                store.hints[_GROUP] = regions
        tags = scope.items(
            SERVICE, region, "ListTagsOfResource", "Tags", ResourceArn=store.store_id
        )
        if tags is None:
            store.notes.append("tags unreadable: data classes unknown")
        else:
            store.data_classes = data_classes_from_tags(tags)
        stores.append(store)
    return stores


def finish(scope: Scope, stores: list[CollectedStore]) -> None:
    """Turn the members of each global table into one source and its replicas."""
    by_id = {s.store_id: s for s in stores}
    done: set[str] = set()
    for store in list(stores):
        regions = store.hints.get(_GROUP)
        if store.service != SERVICE or not regions or store.store_id in done:
            continue
        name = store.aliases[0] if store.aliases else store.store_id.rsplit("/", 1)[-1]
        member_ids = {scope.arn(SERVICE, r, f"table/{name}") for r in [*regions, store.region]}
        members = []
        for member_id in sorted(member_ids):
            member = by_id.get(member_id)
            if member is None:
                member = CollectedStore(member_id, arn_region(member_id), SERVICE)
                member.notes.append(
                    f"replica listed by {store.store_id}; its region was not collected"
                )
                stores.append(member)
                by_id[member_id] = member
            members.append(member)
        tagged = [m for m in members if m.data_classes]
        source = tagged[0] if tagged else members[0]
        for member in members:
            done.add(member.store_id)
            if member is source:
                continue
            member.copy_of, member.copy_kind = source.store_id, "global-table-replica"
            member.aliases = tuple(a for a in member.aliases if a != name)
