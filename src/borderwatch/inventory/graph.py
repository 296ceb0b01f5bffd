"""Copies of stores as a graph: effective data classes and the path back to the original.

A replica of a backup of a table holds what the table holds. Cycles (a misdeclared
inventory) and copies of stores that are not in the inventory are reported, not followed
forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from borderwatch.model.inventory import Store


@dataclass(frozen=True)
class CopyInfo:
    """For one store: the chain original -> ... -> store, and the data classes it holds."""

    copy_path: tuple[str, ...]
    data_classes: tuple[str, ...]
    problem: str = ""  # "copy_of names unknown store 'x'", "copy_of cycle: a -> b -> a"


def resolve_copies(stores: Iterable[Store]) -> dict[str, CopyInfo]:
    """Follow every store's `copy_of` chain to its original; inherit data classes along it."""
    by_id = {store.store_id: store for store in stores}
    result: dict[str, CopyInfo] = {}
    for store in by_id.values():
        chain = [store.store_id]
        classes: dict[str, None] = dict.fromkeys(store.data_classes)
        problem = ""
        current = store
        while current.copy_of is not None:
            parent_id = current.copy_of
            if parent_id in chain:
                problem = "copy_of cycle: " + " -> ".join([*reversed(chain), parent_id])
                break
            parent = by_id.get(parent_id)
            if parent is None:
                problem = f"copy_of names a store not in the inventory: {parent_id!r}"
                chain.append(parent_id)
                break
            chain.append(parent_id)
            classes.update(dict.fromkeys(parent.data_classes))
            current = parent
        result[store.store_id] = CopyInfo(tuple(reversed(chain)), tuple(classes), problem)
    return result
