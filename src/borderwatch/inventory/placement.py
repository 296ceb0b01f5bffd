"""Where inventory stores are: rows resolved through the location registry, with copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

from borderwatch.inventory.graph import CopyInfo, resolve_copies
from borderwatch.inventory.locations import Location, LocationRegistry
from borderwatch.model.inventory import Store

# Each provider's commercial partition: the one an approval covers when it names neither
# a partition nor a region (docs/policy.md, "Partitions"). The others (GovCloud, China,
# ISO, the European Sovereign Cloud, Azure's national clouds, OCI's realms other than
# oc1) need separate accounts and credentials, so they are approved only by name.
DEFAULT_PARTITIONS = MappingProxyType(
    {"aws": "aws", "azure": "azurecloud", "gcp": "gcp", "oci": "oc1"}
)


def in_default_partition(location: Location) -> bool:
    """Whether an approval naming no partition or region can cover `location`.

    A location without a partition (an on-premises site, an unknown region) and one of a
    provider whose partitions borderwatch does not know (a user-added provider) count as
    in the default partition: there is no boundary to cross.
    """
    default = DEFAULT_PARTITIONS.get(location.provider)
    partition = location.partition.strip().lower()
    return default is None or not partition or partition == default


def store_location(store: Store, registry: LocationRegistry) -> Location:
    """The store's location; a row with no region is unknown, never a provider default."""
    if store.region:
        return registry.resolve(store.provider, store.region, site_country=store.country)
    # An inventory row with no region is not evidence of anywhere (the S3 API's "empty
    # means us-east-1" applies to API answers, not to what a person left blank).
    return Location(
        provider=registry.resolve(store.provider, None).provider,
        location="",
        kind="unknown",
        countries=(),
        raw="",
        reason="no region given in the inventory",
    )


@dataclass(frozen=True, slots=True)
class ResolvedStore:
    """A store with its resolved location and copy chain."""

    store: Store
    location: Location
    copies: CopyInfo


def resolve_stores(stores: Sequence[Store], registry: LocationRegistry) -> list[ResolvedStore]:
    """Resolve every store's location through the registry and its copy chain."""
    copies = resolve_copies(stores)
    # A million stores sit in a few hundred places: resolve each place once.
    places: dict[tuple[str, str, str | None], Location] = {}
    resolved = []
    for store in stores:
        place = (store.provider, store.region, store.country)
        location = places.get(place)
        if location is None:
            location = places[place] = store_location(store, registry)
        resolved.append(ResolvedStore(store, location, copies[store.store_id]))
    return resolved
