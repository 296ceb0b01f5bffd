"""Checks of the policy's `dsp:` section the typed model cannot make (docs/dsp.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.model.dsp import REGULATION

__all__ = ["SUBJECT_GROUP", "pattern_problem", "threshold_problem"]

# The named group of a subject key pattern that holds the subject's id.
SUBJECT_GROUP = "subject"


def threshold_problem(category: Any, item: Any) -> tuple[str, str] | None:
    """(message, hint) when a threshold departs from the regulation without a reason."""
    if not isinstance(category, str) or category not in REGULATION:
        return None  # the model names the unknown category
    if not isinstance(item, Mapping):
        return None  # the wrong type, which the model reports
    value, reason = item.get("value"), item.get("reason")
    regulation = REGULATION[category]
    if not isinstance(value, int) or value == regulation.more_than:
        return None
    if isinstance(reason, str) and reason.strip():
        return None
    return (
        f"the bulk threshold of {category} is set to {value} instead of the regulation's "
        f"{regulation.more_than:,} ({regulation.section}) without a reason",
        "a threshold other than the regulation's needs 'reason:' saying why (e.g. a "
        "stricter internal standard, with its document reference); or remove the override",
    )


def pattern_problem(pattern: str) -> tuple[str, str] | None:
    """(message, hint) when a subject key pattern does not compile or names no subject."""
    hint = (
        "write an RE2 regular expression with a group named subject, e.g. "
        "'users/(?P<subject>[0-9]+)/' for object keys such as users/1234/profile.json"
    )
    if f"(?P<{SUBJECT_GROUP}>" not in pattern:
        return f"subject key pattern {pattern!r} has no group named '{SUBJECT_GROUP}'", hint
    try:
        pc.extract_regex(pa.array([], pa.string()), pattern=pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).splitlines()[0]
        return f"subject key pattern {pattern!r} is not a valid regular expression: {reason}", hint
    return None
