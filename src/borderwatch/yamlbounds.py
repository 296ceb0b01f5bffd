"""Limits every YAML input is held to before it is built into Python values.

A YAML alias (`*name`) stands for the whole value its anchor names, so a few lines of
nested aliases ("billion laughs") stand for billions of values: the loader shares them,
but anything that walks the tree (validation, conversion to plain values, printing) pays
for every one. Deep nesting makes the recursive composer and every tree walk raise
RecursionError. `yaml_bounds_problem` finds both from the parser's event stream, which is
read with constant memory per level and without building the tree, so the caller can
refuse the file with its line and why before anything expensive happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
    ScalarEvent,
)

from borderwatch.errors import InputError, Problem, SourceLocation

__all__ = ["YamlLimits", "check_yaml_bounds", "yaml_bounds_problem"]


@dataclass(frozen=True)
class YamlLimits:
    """How much a YAML document may stand for.

    `max_depth`: nesting of mappings and lists (real inputs stay under 10).
    `min_alias_budget`, `alias_factor`: aliases may stand for at most
    max(min_alias_budget, alias_factor x the values written), so `<<: *defaults` on each
    row of a large inventory is fine while exponential nesting of aliases is not.
    """

    max_depth: int = 100
    min_alias_budget: int = 1_000_000
    alias_factor: int = 10


DEFAULT_LIMITS = YamlLimits()


def yaml_bounds_problem(
    text: str, origin: str, limits: YamlLimits = DEFAULT_LIMITS
) -> Problem | None:
    """The first limit `text` breaks, as a Problem with its line and column, or None.

    Syntax errors are left to the real loader, which reports them with its own hints:
    this returns None for a document it cannot parse.
    """
    # Per open collection: how many values it stands for with aliases expanded, and the
    # anchor it will be recorded under when it closes.
    open_sizes: list[int] = []
    open_anchors: list[str | None] = []
    anchored: dict[str, int] = {}
    written = 0
    through_aliases = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            size = 0
            if isinstance(event, CollectionStartEvent):
                if len(open_sizes) >= limits.max_depth:
                    return _too_deep(event, origin, limits)
                open_sizes.append(1)
                open_anchors.append(event.anchor)
                written += 1
                continue
            if isinstance(event, CollectionEndEvent):
                size = open_sizes.pop()
                anchor = open_anchors.pop()
                if anchor is not None:
                    anchored[anchor] = size
            elif isinstance(event, ScalarEvent):
                size = 1
                written += 1
                if event.anchor is not None:
                    anchored[event.anchor] = 1
            elif isinstance(event, AliasEvent):
                # An undefined alias is the loader's error to report, with its hint.
                size = anchored.get(event.anchor, 1)
                through_aliases += size
                budget = max(limits.min_alias_budget, limits.alias_factor * written)
                if through_aliases > budget:
                    return _too_many_aliases(event, origin, budget)
            else:
                continue
            if open_sizes:
                open_sizes[-1] += size
    except (YAMLError, ValueError):
        return None
    return None


def _location(event: NodeEvent | CollectionStartEvent, origin: str) -> SourceLocation:
    mark = event.start_mark
    if mark is None:
        return SourceLocation(origin, 1, 1)
    return SourceLocation(origin, mark.line + 1, mark.column + 1)


def _too_deep(event: CollectionStartEvent, origin: str, limits: YamlLimits) -> Problem:
    return Problem(
        _location(event, origin),
        f"YAML nested more than {limits.max_depth} levels deep; refused",
        "no borderwatch input nests this deep: the file is damaged or was made to "
        "exhaust the reader",
    )


def _too_many_aliases(event: AliasEvent, origin: str, budget: int) -> Problem:
    return Problem(
        _location(event, origin),
        f"YAML aliases (*{event.anchor}) stand for more than {budget:,} values; refused "
        "(nested aliases that multiply, a 'billion laughs' document)",
        "write the values out, or refer to each anchor without nesting aliases of aliases",
    )


def check_yaml_bounds(text: str, origin: str, what: str = "YAML file") -> None:
    """Raise InputError naming `origin`, the line and why when `text` breaks a limit."""
    problem = yaml_bounds_problem(text, origin)
    if problem is not None:
        raise InputError(f"{origin}: {what} refused", [problem])
