"""Copies of stores as a graph: effective data classes and the path back to the original.

A replica of a backup of a table holds what the table holds. Cycles (a misdeclared
inventory) and copies of stores that are not in the inventory are reported, not followed
forever.

Each store is resolved once, from its parent's resolution, so the work is linear in the
number of stores however long the chains are. A path longer than `MAX_PATH_SHOWN` keeps
the original and the last hops, with the number left out between them: a 10,000-link
chain must not make every store carry (and every report print) 10,000 names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from borderwatch.model.inventory import Store

MAX_PATH_SHOWN = 32


@dataclass(frozen=True, slots=True)
class CopyInfo:
    """For one store: the chain original -> ... -> store, and the data classes it holds."""

    copy_path: tuple[str, ...]
    data_classes: tuple[str, ...]
    problem: str = ""  # "copy_of names unknown store 'x'", "copy_of cycle: a -> b -> a"


@dataclass(frozen=True, slots=True)
class _Chain:
    """A resolved chain kept in bounded size: its first store, length and last hops."""

    first: str
    length: int
    tail: tuple[str, ...]
    classes: tuple[str, ...]
    problem: str = ""

    def then(self, store: Store) -> _Chain:
        tail = (*self.tail, store.store_id)[-(MAX_PATH_SHOWN - 2) :]
        return _Chain(
            self.first,
            self.length + 1,
            tail,
            _union(store.data_classes, self.classes),
            self.problem,
        )

    def info(self) -> CopyInfo:
        return CopyInfo(_shown(self.first, self.length, self.tail), self.classes, self.problem)


def resolve_copies(stores: Iterable[Store]) -> dict[str, CopyInfo]:
    """Follow every store's `copy_of` chain to its original; inherit data classes along it."""
    by_id = {store.store_id: store for store in stores}
    done: dict[str, _Chain] = {}
    for store_id in by_id:
        if store_id not in done:
            _resolve_from(store_id, by_id, done)
    # Popped one by one, so the bounded chains are freed as their answers are made.
    return {store_id: done.pop(store_id).info() for store_id in list(done)}


def _resolve_from(start: str, by_id: dict[str, Store], done: dict[str, _Chain]) -> None:
    """Walk up from `start` to something resolved (an original, a resolved store, a missing
    parent or a cycle), then resolve the walk on the way back down."""
    walk: list[Store] = []
    on_walk: dict[str, int] = {}
    base: _Chain | None = None
    current: str | None = start
    while current is not None:
        if current in done:
            base = done[current]
            break
        if current in on_walk:
            cycle = walk[on_walk[current] :]
            del walk[on_walk[current] :]
            _resolve_cycle(cycle, done)
            base = done[current]
            break
        store = by_id.get(current)
        if store is None:
            problem = f"copy_of names a store not in the inventory: {current!r}"
            base = _Chain(current, 1, (), (), problem)
            break
        on_walk[current] = len(walk)
        walk.append(store)
        current = store.copy_of
    for store in reversed(walk):
        chain = (
            base.then(store)
            if base is not None
            else _Chain(store.store_id, 1, (), tuple(dict.fromkeys(store.data_classes)))
        )
        done[store.store_id] = chain
        base = chain


def _resolve_cycle(cycle: list[Store], done: dict[str, _Chain]) -> None:
    """Every store on a cycle holds what any of them holds; each names the cycle from itself.

    `cycle` is in copy_of order: each store is a copy of the next, the last of the first.
    """
    classes: tuple[str, ...] = ()
    for store in cycle:
        classes = _union(classes, store.data_classes)
    ids = [store.store_id for store in cycle]
    count = len(ids)
    for index, store in enumerate(cycle):
        # around(j): the store j copy_of steps up from this one, round the cycle.
        def around(j: int, index: int = index) -> str:
            return ids[(index + j) % count]

        if count + 1 <= MAX_PATH_SHOWN:
            named = " -> ".join([*(around(j) for j in range(count)), store.store_id])
        else:
            start = " -> ".join(around(j) for j in range(3))
            named = f"{start} -> ... ({count:,} stores) -> {store.store_id}"
        # The path reads original-first; on a cycle it starts one step past the store and
        # ends at the store itself.
        kept = min(count - 1, MAX_PATH_SHOWN - 2)
        tail = tuple(around(j) for j in range(kept - 1, -1, -1)) if kept else ()
        done[store.store_id] = _Chain(
            around(count - 1) if count > 1 else store.store_id,
            count,
            tail if count > 1 else (),
            _union(store.data_classes, classes),
            f"copy_of cycle: {named}",
        )


def _union(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def _shown(first: str, length: int, tail: tuple[str, ...]) -> tuple[str, ...]:
    """The path as shown: every hop, or the first, a count of those left out, the last."""
    left_out = length - 1 - len(tail)
    if left_out <= 0:
        return (first, *tail)
    return (first, f"... {left_out:,} more copies ...", *tail)
