"""Compare the current inventory with earlier snapshots: changes and legacy progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from borderwatch.inventory.diff import Change, diff_inventories
from borderwatch.inventory.legacy import (
    LegacyHolding,
    LegacyProgress,
    legacy_holdings,
    legacy_progress,
)
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.placement import ResolvedStore, resolve_stores
from borderwatch.model.inventory import Store
from borderwatch.model.policy import Policy


@dataclass
class History:
    """What the earlier snapshots add to a scan."""

    changes: list[Change] = field(default_factory=list)
    holdings: list[LegacyHolding] = field(default_factory=list)
    progress: list[LegacyProgress] = field(default_factory=list)


def inventory_history(
    current: Sequence[ResolvedStore],
    previous: Sequence[tuple[dt.date, Sequence[Store]]],
    policy: Policy,
    registry: LocationRegistry,
    as_of: dt.date,
) -> History:
    """Changes since the latest earlier snapshot, and legacy holdings now and over time."""
    protected = {dc.name for dc in policy.protected_classes()}

    def provider_id(name: str) -> str:
        return registry.resolve(name, None).provider

    history = History()
    if previous:
        _, latest = max(previous, key=lambda snapshot: snapshot[0])
        history.changes = diff_inventories(latest, [r.store for r in current], registry)
    legacy = policy.legacy_locations
    if legacy:
        history.holdings = legacy_holdings(current, legacy, protected, provider_id)
        snapshots = [(day, resolve_stores(stores, registry)) for day, stores in previous]
        history.progress = legacy_progress(
            [*snapshots, (as_of, list(current))], legacy, protected, provider_id
        )
    return history
