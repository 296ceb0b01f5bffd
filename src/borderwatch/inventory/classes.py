"""Data classes a policy gives to stores by pattern, added to what the inventory says."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from fnmatch import fnmatchcase

from borderwatch.model.inventory import Store
from borderwatch.model.policy import StoreClasses


def apply_store_classes(stores: Sequence[Store], rules: Sequence[StoreClasses]) -> list[Store]:
    """Each store with the classes of every rule whose glob matches its id or an alias.

    Classes are only ever added: the policy can say a store holds protected data, never
    that a store the inventory marks protected does not.
    """
    if not rules:
        return list(stores)
    result = []
    for store in stores:
        added = classes_by_pattern((store.store_id, *store.aliases), rules)
        merged = tuple(dict.fromkeys((*store.data_classes, *added)))
        result.append(
            store
            if merged == store.data_classes
            else dataclasses.replace(store, data_classes=merged)
        )
    return result


def classes_by_pattern(names: Sequence[str], rules: Sequence[StoreClasses]) -> list[str]:
    """The classes of every rule whose glob matches one of a store's names."""
    return [
        data_class
        for rule in rules
        if any(fnmatchcase(name, rule.match) for name in names)
        for data_class in rule.data_classes
    ]
