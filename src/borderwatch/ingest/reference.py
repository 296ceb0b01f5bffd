"""Read the reference inputs of a scan (inventories, earlier snapshots, identities,
entities, travel), every file accounted for: records read = kept + quarantined."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from borderwatch.errors import SourceLocation
from borderwatch.inventory.classes import apply_store_classes
from borderwatch.inventory.snapshots import snapshot_date
from borderwatch.inventory.stores import (
    UnreadableStore,
    inventory_class_names,
    read_inventory,
)
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.inventory import Store
from borderwatch.model.policy import Policy
from borderwatch.model.scan import InputSummary
from borderwatch.policy.classes import check_class_names
from borderwatch.tables.records import TableRead

T = TypeVar("T")


def classified(stores: list[Store], policy: Policy) -> list[Store]:
    """The stores with the data classes the policy's store patterns give them."""
    return apply_store_classes(stores, policy.store_classes)


def read_snapshots(
    paths: Sequence[Path],
    policy: Policy,
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
) -> list[tuple[dt.date, list[Store]]]:
    """Each earlier inventory file is one snapshot, dated by snapshot_date()."""
    snapshots = []
    for path in paths:
        summaries: list[InputSummary] = []
        stores = classified(read_stores([path], summaries, quarantined, [], policy), policy)
        inputs.extend(replace(s, kind="previous-inventory") for s in summaries)
        snapshots.append((snapshot_date(Path(path)), stores))
    return snapshots


def read_stores(
    paths: Sequence[Path],
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
    unreadable: list[UnreadableStore],
    policy: Policy,
) -> list[Store]:
    """The stores of every inventory file; quarantined rows also go to `unreadable`.

    Raises InputError when a row (kept or not) names a data class the policy does not
    know: it would be judged unprotected.
    """
    stores: list[Store] = []
    seen: set[str] = set()
    named: list[tuple[str, SourceLocation]] = []
    for path in paths:
        read = read_inventory(Path(path))
        named.extend(inventory_class_names(read))
        kept = []
        for store in read.stores:
            if store.store_id in seen:
                reason = f"duplicate store_id {store.store_id!r} (declared in an earlier file)"
                line = int(store.origin.rsplit(":", 1)[-1])
                read.quarantined.append(
                    QuarantinedRecord(read.path, f"line {line}", reason, source_format="inventory")
                )
                read.unreadable.append(
                    UnreadableStore(read.path, line, reason, store.store_id, store.data_classes)
                )
                continue
            seen.add(store.store_id)
            kept.append(store)
        stores.extend(kept)
        quarantined.extend(read.quarantined)
        unreadable.extend(read.unreadable)
        inputs.append(
            InputSummary(
                read.path,
                "inventory",
                "inventory",
                read.records_read,
                len(kept),
                len(read.quarantined),
            )
        )
    check_class_names(policy, named)  # every file's unknown names at once
    return stores


def read_reference(
    paths: Sequence[Path],
    read: Callable[[Path], TableRead[T]],
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
) -> list[T]:
    """Read every file of one reference kind (identities, entities, travel), accounted."""
    items: list[T] = []
    for path in paths:
        result = read(Path(path))
        items.extend(result.items)
        quarantined.extend(result.quarantined)
        inputs.append(
            InputSummary(
                result.path,
                result.kind,
                result.kind,
                result.records_read,
                len(result.items),
                len(result.quarantined),
            )
        )
    return items
