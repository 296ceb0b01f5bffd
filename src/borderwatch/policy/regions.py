"""Regions a policy names, checked against the location registry.

An approved location whose region does not exist (`region: us-east-99`) approves nothing,
and nobody notices: stores in the intended region are then reported outside, or worse, a
policy is believed to say something it does not. The loader reports such a region with
the closest known ones. The registry is passed in (the policy stage does not read the
inventory's data files itself); anything with `providers`, `resolve` and `all_locations`
will do.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["RegionLookup", "partition_problem", "unknown_region"]

# The company's own sites are named by the inventory (site ids), not by the registry.
_SITE_PROVIDERS = ("onprem",)


class _Located(Protocol):
    @property
    def provider(self) -> str: ...

    @property
    def location(self) -> str: ...

    @property
    def partition(self) -> str: ...


class RegionLookup(Protocol):
    """The part of borderwatch.inventory.locations.LocationRegistry this check needs."""

    def providers(self) -> tuple[str, ...]: ...

    def resolve(self, provider: str | None, location: str | None, /) -> Any: ...

    def all_locations(self) -> Iterable[_Located]: ...


def unknown_region(
    locations: RegionLookup, provider: str | None, region: str
) -> tuple[str, str] | None:
    """(message, hint) when `region` of `provider` (or of any provider) is not known.

    None when it resolves, or when it cannot be checked: an on-premises site id, or a
    provider the registry has no locations for.
    """
    known_providers = locations.providers()
    if provider is not None:
        resolved = locations.resolve(provider, None)
        canonical = str(resolved.provider)
        if canonical in _SITE_PROVIDERS or canonical not in known_providers:
            return None
        candidates = [canonical]
    else:
        candidates = list(known_providers)
    if any(locations.resolve(name, region).kind != "unknown" for name in candidates):
        return None
    ids = sorted({row.location for row in locations.all_locations() if row.provider in candidates})
    close = difflib.get_close_matches(region.strip().lower(), ids, n=3, cutoff=0.6)
    whose = f"{candidates[0]} " if provider is not None else ""
    message = f"{whose}region '{region}' is not in the location registry"
    quoted = [f"'{name}'" for name in close]
    if quoted:
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        hint = f"did you mean {listed}?"
    else:
        hint = "use a region id as the provider writes it (e.g. us-east-1)."
    hint += " docs/locations.md says where the known locations are listed and how to add one"
    return message, hint


def partition_problem(
    locations: RegionLookup, provider: str | None, region: str | None, partition: str
) -> tuple[str, str] | None:
    """(message, hint) when an approval's `partition` is not a known partition, is not one
    of its provider's, or is not the partition of its region; None when it fits.

    Partitions are compared case-insensitively (`AzureUSGovernment`, `azureusgovernment`).
    """
    rows = list(locations.all_locations())
    known = {row.partition.lower(): row.partition for row in rows if row.partition}
    wanted = partition.strip().lower()
    if wanted not in known:
        close = difflib.get_close_matches(wanted, sorted(known), n=3, cutoff=0.6)
        quoted = [f"'{known[name]}'" for name in close]
        named = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else "".join(quoted)
        hint = f"did you mean {named}?" if close else "use a partition the registry knows."
        return (
            f"partition '{partition}' is not a known partition",
            f"{hint} Known: {', '.join(sorted(known.values(), key=str.lower))} (docs/locations.md)",
        )
    if provider is not None:
        canonical = str(locations.resolve(provider, None).provider)
        owners = {row.provider for row in rows if row.partition.lower() == wanted}
        if canonical not in owners:
            return (
                f"partition '{partition}' is not a partition of provider '{provider}'",
                f"it belongs to {', '.join(sorted(owners))}; fix the provider or the partition",
            )
    if region is not None and region.strip():
        names = [provider] if provider is not None else list(locations.providers())
        for name in names:
            found = locations.resolve(name, region)
            if found.kind != "unknown" and str(found.partition).lower() != wanted:
                return (
                    f"region '{region}' is in partition '{found.partition}', not '{partition}'",
                    "a region implies its partition: drop 'partition' or fix it",
                )
    return None
