"""Migration progress: protected data still in legacy locations, now and over time.

A policy names legacy locations (the old own data centres) that must be emptied by a
deadline. This module finds the protected stores in them, in the current inventory and
in earlier snapshots, so the report can show the records left per location over time and
`residency.legacy-not-emptied` can fire after the deadline. The progress values live in
the model (a ScanResult carries them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from borderwatch.inventory.placement import ResolvedStore
from borderwatch.model.inventory import LegacyPoint, LegacyProgress
from borderwatch.model.policy import LegacyLocation

ProviderId = Callable[[str], str]


@dataclass(frozen=True)
class LegacyHolding:
    """A protected store found in a legacy location."""

    store_id: str
    legacy: str  # the legacy location's name
    deadline: dt.date
    records: int | None  # None: the inventory does not say (counts as not emptied)


def legacy_holdings(
    stores: Sequence[ResolvedStore],
    legacy: Sequence[LegacyLocation],
    protected: set[str],
    provider_id: ProviderId,
) -> list[LegacyHolding]:
    """Every protected store (own or inherited classes) in a legacy location."""
    holdings = []
    for item in stores:
        if not protected & set(item.copies.data_classes):
            continue
        for place in legacy:
            if _matches(item, place, provider_id):
                holdings.append(
                    LegacyHolding(
                        item.store.store_id, place.name, place.deadline, item.store.records
                    )
                )
    return holdings


def legacy_progress(
    snapshots: Sequence[tuple[dt.date, Sequence[ResolvedStore]]],
    legacy: Sequence[LegacyLocation],
    protected: set[str],
    provider_id: ProviderId,
) -> list[LegacyProgress]:
    """For each legacy location, what remained on each snapshot date (oldest first)."""
    progress = []
    for place in legacy:
        points = []
        for day, stores in sorted(snapshots, key=lambda s: s[0]):
            held = legacy_holdings(stores, [place], protected, provider_id)
            points.append(
                LegacyPoint(
                    day,
                    len(held),
                    sum(h.records or 0 for h in held),
                    sum(1 for h in held if h.records is None),
                )
            )
        progress.append(LegacyProgress(place.name, place.deadline, tuple(points)))
    return progress


def _matches(item: ResolvedStore, place: LegacyLocation, provider_id: ProviderId) -> bool:
    location = item.location
    if place.provider is not None and provider_id(place.provider) != location.provider:
        return False
    if place.region is not None and place.region.strip().lower() not in (
        item.store.region.strip().lower(),
        location.location.lower(),
    ):
        return False
    return place.country is None or place.country in location.countries
