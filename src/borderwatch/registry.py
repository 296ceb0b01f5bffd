"""One typed registry for every kind of plug-in: sources, enrichers, rules, reporters, engines.

Built-ins register through the same entry point (`borderwatch.plugins`) a third-party
package would use, so there is exactly one way in. Nothing registers at import time: a
`Registry` is built, filled by `load_plugins`, and passed around in the scan context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from borderwatch.errors import UsageError

T = TypeVar("T")

PLUGIN_GROUP = "borderwatch.plugins"


@dataclass
class Kind(Generic[T]):
    """The plug-ins of one kind, by name, in registration order."""

    kind: str
    items: dict[str, T] = field(default_factory=dict)

    def add(self, name: str, item: T) -> None:
        """Register `item` under `name`; a second registration of a name is a bug."""
        if name in self.items:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self.items[name] = item

    def get(self, name: str) -> T:
        """The plug-in called `name`, or a UsageError listing the known names."""
        try:
            return self.items[name]
        except KeyError:
            known = ", ".join(sorted(self.items)) or "none"
            raise UsageError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return list(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items.values())

    def __contains__(self, name: object) -> bool:
        return name in self.items

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Registry:
    """All plug-ins, one `Kind` per family."""

    sources: Kind[Any] = field(default_factory=lambda: Kind("source"))
    rules: Kind[Any] = field(default_factory=lambda: Kind("rule"))
    reporters: Kind[Any] = field(default_factory=lambda: Kind("reporter"))
    inventory_readers: Kind[Any] = field(default_factory=lambda: Kind("inventory reader"))
    engines: Kind[Any] = field(default_factory=lambda: Kind("engine"))
    # Enrichers (borderwatch.enrich.base.Enricher) add columns to the callers and
    # identities tables the rules read; each runs once the columns it needs exist.
    enrichers: Kind[Any] = field(default_factory=lambda: Kind("enricher"))


def load_plugins(
    registry: Registry | None = None, fallback: Callable[[Registry], None] | None = None
) -> Registry:
    """Fill a registry from every installed `borderwatch.plugins` entry point.

    Each entry point is a callable taking the registry. If the package metadata is not
    installed (running from a source tree), `fallback` is called instead: `borderwatch.api`
    passes the built-ins' hook, so the tool still works. (The registry stands below the
    plug-ins it holds and does not import them: docs/architecture.md.)
    """
    registry = registry or Registry()
    hooks: list[Callable[[Registry], None]] = [ep.load() for ep in entry_points(group=PLUGIN_GROUP)]
    if not hooks and fallback is not None:
        hooks = [fallback]
    for hook in hooks:
        hook(registry)
    return registry
