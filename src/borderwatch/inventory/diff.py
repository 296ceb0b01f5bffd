"""What changed between two inventories: stores that appeared, moved, gained copies or went.

Agreements commonly require notice before storage locations change; this is the
evidence. Pure functions over resolved locations, so "us-east-1a" and "us-east-1" are
the same place and only real moves count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from borderwatch.inventory.locations import Location, LocationRegistry
from borderwatch.inventory.placement import store_location
from borderwatch.model.inventory import Store

APPEARED, MOVED, GAINED_COPY, DISAPPEARED = "appeared", "moved", "gained-copy", "disappeared"


@dataclass(frozen=True)
class Change:
    """One change to one store between the previous and the current inventory."""

    store_id: str
    kind: str  # appeared, moved, gained-copy, disappeared
    before: str  # where it was ("" when it did not exist)
    after: str  # where it is ("" when it no longer exists)
    detail: str = ""  # for gained-copy: the new copy's id


def describe_location(location: Location) -> str:
    """A short place name: provider, location and countries."""
    countries = "/".join(location.countries) or location.kind
    where = location.location or "(no region)"
    return f"{location.provider} {where} ({countries})"


def diff_inventories(
    previous: Sequence[Store], current: Sequence[Store], registry: LocationRegistry
) -> list[Change]:
    """Changes from `previous` to `current`, in a stable order."""
    before = {s.store_id: s for s in previous}
    after = {s.store_id: s for s in current}
    changes: list[Change] = []
    for store_id in sorted(after.keys() - before.keys()):
        store = after[store_id]
        where = describe_location(store_location(store, registry))
        source = store.copy_of
        if source and source in before:
            changes.append(Change(source, GAINED_COPY, "", where, store_id))
        changes.append(Change(store_id, APPEARED, "", where))
    for store_id in sorted(before.keys() & after.keys()):
        old = store_location(before[store_id], registry)
        new = store_location(after[store_id], registry)
        if (old.provider, old.location, old.countries) != (
            new.provider,
            new.location,
            new.countries,
        ):
            changes.append(Change(store_id, MOVED, describe_location(old), describe_location(new)))
    for store_id in sorted(before.keys() - after.keys()):
        where = describe_location(store_location(before[store_id], registry))
        changes.append(Change(store_id, DISAPPEARED, where, ""))
    return changes
