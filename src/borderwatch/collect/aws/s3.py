"""S3 buckets, their regions, tags, and the buckets they replicate to.

store_id is the bucket name (globally unique); aliases carry the bucket ARN.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from borderwatch.collect.aws.base import (
    UNKNOWN_REGION,
    CollectedStore,
    Scope,
    data_classes_from_tags,
    error_code,
)

SERVICE = "s3"
GLOBAL = True
"""ListBuckets returns every bucket of the account whatever the client's region."""

_NO_REPLICATION = ("ReplicationConfigurationNotFoundError",)
_NO_TAGS = ("NoSuchTagSet",)


def bucket_names(response: dict[str, Any]) -> list[str]:
    """Bucket names of a ListBuckets response."""
    return [b["Name"] for b in response.get("Buckets") or [] if b.get("Name")]


def raw_location(response: dict[str, Any]) -> str | None:
    """The raw LocationConstraint of a GetBucketLocation response (None means us-east-1)."""
    value = response.get("LocationConstraint")
    return None if value is None else str(value)


def replication_destinations(response: dict[str, Any]) -> list[tuple[str, str]]:
    """(destination bucket name, rule status) for each rule of a GetBucketReplication response.

    Disabled rules are kept: objects replicated before the rule was disabled remain there.
    """
    config = response.get("ReplicationConfiguration") or {}
    result: list[tuple[str, str]] = []
    for rule in config.get("Rules") or []:
        bucket = str((rule.get("Destination") or {}).get("Bucket") or "")
        name = bucket.split(":::", 1)[1] if bucket.startswith("arn:") else bucket
        if name:
            result.append((name, str(rule.get("Status") or "")))
    return result


def bucket_arn(scope: Scope, name: str) -> str:
    return f"arn:{scope.partition}:s3:::{name}"


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    listing = scope.call(SERVICE, region, "ListBuckets")
    if listing is None:
        return []
    stores: dict[str, CollectedStore] = {}
    replication: dict[str, list[tuple[str, str]]] = {}
    for name in bucket_names(listing):
        stores[name] = _bucket(scope, region, name)
        rep = scope.call(
            SERVICE, region, "GetBucketReplication", absent=_NO_REPLICATION, what=name, Bucket=name
        )
        if rep:
            replication[name] = replication_destinations(rep)
    for source, destinations in replication.items():
        for dest, status in destinations:
            store = stores.get(dest)
            if store is None:
                store = _foreign_bucket(scope, region, dest)
                stores[dest] = store
            if store.copy_of is None and dest != source:
                store.copy_of, store.copy_kind = source, "replication"
                if status != "Enabled":
                    store.notes.append(
                        f"replication rule from {source} is {status or 'without status'}; "
                        "objects replicated earlier remain"
                    )
            elif store.copy_of != source:
                store.notes.append(f"also a replication destination of {source}")
    return list(stores.values())


def _bucket(scope: Scope, region: str, name: str) -> CollectedStore:
    store = CollectedStore(name, UNKNOWN_REGION, SERVICE, aliases=(bucket_arn(scope, name),))
    loc = scope.call(SERVICE, region, "GetBucketLocation", what=name, Bucket=name)
    if loc is None:
        store.notes.append("region unknown: GetBucketLocation failed")
    else:
        raw = raw_location(loc)
        store.region = scope.canonical_region(raw)
        if not store.region:
            store.notes.append(f"region unknown: LocationConstraint {raw!r} is not in the registry")
    tags = scope.call(SERVICE, region, "GetBucketTagging", absent=_NO_TAGS, what=name, Bucket=name)
    if tags is None:
        store.notes.append("tags unreadable: data classes unknown")
    else:
        store.data_classes = data_classes_from_tags(tags.get("TagSet"))
    return store


def _foreign_bucket(scope: Scope, region: str, name: str) -> CollectedStore:
    """A destination bucket not in this account's listing (another account's bucket)."""
    store = CollectedStore(name, UNKNOWN_REGION, SERVICE, aliases=(bucket_arn(scope, name),))
    store.notes.append("replication destination not owned by this account")
    client = scope.client(SERVICE, region)
    try:
        loc = client.get_bucket_location(Bucket=name)
    except (ClientError, BotoCoreError) as exc:  # someone else's bucket: not a gap of ours
        store.notes.append(f"region unknown: GetBucketLocation failed ({error_code(exc)})")
        return store
    store.region = scope.canonical_region(raw_location(loc))
    if not store.region:
        store.notes.append("region unknown: LocationConstraint not in the registry")
    return store
