"""What changed between two inventories: stores that appeared, moved, gained copies or went.

Agreements commonly require notice before storage locations change; this is the
evidence. Pure functions over resolved locations, so "us-east-1a" and "us-east-1" are
the same place and only real moves count. The `Change` values live in the model (a
ScanResult carries them).
"""

from __future__ import annotations

from collections.abc import Sequence

from borderwatch.inventory.locations import Location, LocationRegistry
from borderwatch.inventory.placement import store_location
from borderwatch.model.inventory import Change, Store

APPEARED, MOVED, GAINED_COPY, DISAPPEARED = "appeared", "moved", "gained-copy", "disappeared"


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
