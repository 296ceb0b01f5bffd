"""OpenSearch Service domains (no copies: cross-cluster replication is not collected).

store_id is the domain ARN; aliases carry the domain name and endpoint.
"""

from __future__ import annotations

from typing import Any

from borderwatch.collect.aws.base import CollectedStore, Scope, data_classes_from_tags

SERVICE = "opensearch"
GLOBAL = False


def domain_store(scope: Scope, region: str, status: dict[str, Any]) -> CollectedStore:
    name = status["DomainName"]
    arn = status.get("ARN") or scope.arn("es", region, f"domain/{name}")
    endpoints = [status.get("Endpoint"), *(status.get("Endpoints") or {}).values()]
    aliases = tuple(dict.fromkeys(a for a in (name, *endpoints) if a))
    return CollectedStore(arn, region, SERVICE, aliases=aliases)


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    listing = scope.call(SERVICE, region, "ListDomainNames")
    stores = []
    for entry in (listing or {}).get("DomainNames") or []:
        described = scope.call(
            SERVICE,
            region,
            "DescribeDomain",
            what=entry["DomainName"],
            DomainName=entry["DomainName"],
        )
        if not described:
            continue
        store = domain_store(scope, region, described["DomainStatus"])
        tags = scope.call(SERVICE, region, "ListTags", what=store.store_id, ARN=store.store_id)
        if tags is None:
            store.notes.append("tags unreadable: data classes unknown")
        else:
            store.data_classes = data_classes_from_tags(tags.get("TagList"))
        stores.append(store)
    return stores
