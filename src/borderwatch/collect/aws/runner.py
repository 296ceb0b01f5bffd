"""Run every AWS service collector over every region and put the stores together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from borderwatch.collect.aws import (
    backup,
    dynamodb,
    ebs,
    elasticache,
    opensearch,
    rds,
    redshift,
    s3,
)
from borderwatch.collect.aws.base import ClientFactory, CollectedStore, Gap, Scope, error_text
from borderwatch.inventory.locations import LocationRegistry

SERVICES: dict[str, ModuleType] = {
    getattr(module, "NAME", module.SERVICE): module
    for module in (s3, rds, dynamodb, ebs, backup, elasticache, redshift, opensearch)
}
HOME_REGION = "us-east-1"


@dataclass
class Collection:
    """The stores of one account, what could not be collected, and when."""

    account: str
    regions: tuple[str, ...]
    services: tuple[str, ...]
    collected_at: dt.datetime
    stores: list[CollectedStore] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


def discover_regions(scope: Scope, home: str = HOME_REGION) -> tuple[str, ...]:
    """The account's enabled regions (ec2 DescribeRegions, AllRegions=False)."""
    response = scope.call("ec2", home, "DescribeRegions", AllRegions=False)
    if response is None:
        return (home,)
    names = [
        r["RegionName"]
        for r in response.get("Regions") or []
        if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
    ]
    return tuple(sorted(names)) or (home,)


def account_id(clients: ClientFactory, region: str, gaps: list[Gap]) -> str:
    """The account of the credentials; no credentials at all stops the collection."""
    try:
        return str(clients("sts", region).get_caller_identity()["Account"])
    except NoCredentialsError:
        raise
    except (ClientError, BotoCoreError) as exc:
        gaps.append(Gap("sts", region, "GetCallerIdentity", error_text(exc)))
        return "unknown"


def collect_aws(
    clients: ClientFactory,
    *,
    regions: Sequence[str] = (),
    services: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    registry: LocationRegistry | None = None,
    account: str | None = None,
    now: dt.datetime | None = None,
) -> Collection:
    """Collect every store of the account; a failing service or region becomes a gap."""
    say = progress or (lambda message: None)
    chosen = tuple(services) or tuple(SERVICES)
    unknown = [s for s in chosen if s not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    gaps: list[Gap] = []
    home = regions[0] if regions else HOME_REGION
    scope = Scope(
        clients=clients,
        account=account or account_id(clients, home, gaps),
        registry=registry or LocationRegistry.load_builtin(),
        progress=say,
        gaps=gaps,
    )
    scope.regions = tuple(regions) or discover_regions(scope, home)
    say(f"account {scope.account}, regions: {', '.join(scope.regions)}")
    stores: list[CollectedStore] = []
    for name in chosen:
        module = SERVICES[name]
        for region in (home,) if module.GLOBAL else scope.regions:
            say(f"{region} {name}")
            try:
                stores.extend(module.collect(scope, region))
            except (ClientError, BotoCoreError) as exc:
                scope.gap(name, region, "collect", error_text(exc))
    for name in chosen:
        finish = getattr(SERVICES[name], "finish", None)
        if finish is not None:
            finish(scope, stores)
    return Collection(
        account=scope.account,
        regions=scope.regions,
        services=chosen,
        collected_at=now or dt.datetime.now(dt.UTC),
        stores=merge(stores),
        gaps=gaps,
    )


def merge(stores: Sequence[CollectedStore]) -> list[CollectedStore]:
    """One store per store_id; a second sighting adds its classes, aliases and notes."""
    by_id: dict[str, CollectedStore] = {}
    for store in stores:
        seen = by_id.get(store.store_id)
        if seen is None:
            by_id[store.store_id] = store
            continue
        seen.data_classes = tuple(dict.fromkeys([*seen.data_classes, *store.data_classes]))
        seen.aliases = tuple(dict.fromkeys([*seen.aliases, *store.aliases]))
        seen.region = seen.region or store.region
        if seen.copy_of is None and store.copy_of is not None:
            seen.copy_of, seen.copy_kind = store.copy_of, store.copy_kind
        if seen.records is None:
            seen.records = store.records
        seen.notes.extend(n for n in store.notes if n not in seen.notes)
    return sorted(by_id.values(), key=lambda s: (s.service, s.store_id))
