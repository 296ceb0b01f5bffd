"""The built-in rules, in the order they are listed and evaluated."""

from __future__ import annotations

from borderwatch.rules import access, coverage, residency
from borderwatch.rules.base import Rule


def builtin_rules() -> list[Rule]:
    return [*residency.rules(), *access.rules(), *coverage.rules()]
