"""Messages of the residency rules (rules/residency/*.yaml name them): one sentence per finding.

Python, not a template, because the sentence depends on the evidence (a global location,
a partition that is not approved, a copy that crosses a partition).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any


def _where(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    kind = evidence.get("location_kind")
    place = f"{evidence.get('provider')} {evidence.get('region') or '(no region)'}"
    if kind == "global":
        return f"{place}, a global location that may hold data in any country"
    countries = ", ".join(evidence.get("countries") or []) or "unknown country"
    return f"{place} ({countries})"


def _why_outside(row: dict[str, Any]) -> str:
    """Why the place is not approved, when the reason is its partition (else nothing)."""
    evidence = row.get("evidence") or {}
    if not evidence.get("partition_not_approved"):
        return ""
    return (
        f": partition {evidence.get('partition')} is not approved (an approval covers "
        "only its provider's commercial partition unless it names the partition or a "
        "region of it)"
    )


def _crossing(row: dict[str, Any]) -> str:
    """A note when a copy is in another partition than the store it copies."""
    evidence = row.get("evidence") or {}
    here, there = evidence.get("partition"), evidence.get("copied_from_partition")
    if not here or not there or here.lower() == there.lower():
        return ""
    return (
        f" The copy crosses from partition {there} ({evidence.get('copied_from')}) to "
        f"{here}: an export, or a misdeclared inventory."
    )


def _describe_store(row: dict[str, Any]) -> str:
    classes = ", ".join(row.get("data_classes") or [])
    return (
        f"Store {row['resource']} holds {classes} in {_where(row)}, outside the approved "
        f"locations{_why_outside(row)}."
    )


def _describe_copy(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    path = " → ".join(evidence.get("copy_path") or [row["resource"]])
    classes = ", ".join(row.get("data_classes") or [])
    return (
        f"Copy {path} carries {classes} to {_where(row)}, outside the approved "
        f"locations{_why_outside(row)}.{_crossing(row)}"
    )


def _describe_crossing(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    classes = ", ".join(row.get("data_classes") or [])
    kind = evidence.get("copy_kind") or "copy"
    return (
        f"Copy {row['resource']} ({kind} of {evidence.get('copied_from')}) holds {classes} "
        f"in {evidence.get('provider')} {evidence.get('region')} (partition "
        f"{evidence.get('partition')}), but the store it copies is in "
        f"{evidence.get('copied_from_provider')} {evidence.get('copied_from_region')} "
        f"(partition {evidence.get('copied_from_partition')}): a copy across a partition "
        "needs separate accounts and credentials, so it is an export or a misdeclared "
        "inventory."
    )


def _describe_unknown(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    reason = evidence.get("location_reason") or "the location is not in the location registry"
    return (
        f"Store {row['resource']} holds protected data but its location cannot be "
        f"established: {reason}."
    )


def _describe_unreadable(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    where = evidence.get("declared_at")
    reason = evidence.get("reason")
    if not evidence.get("classes_read"):
        return (
            f"Inventory row {where} could not be read ({reason}): whether it holds "
            "protected data, and where, cannot be established."
        )
    classes = ", ".join(row.get("data_classes") or [])
    return (
        f"Store {row['resource']} ({where}) holds {classes} but its inventory row was "
        f"quarantined ({reason}): its location was not judged."
    )


def _describe_changed(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    change, store = evidence.get("change"), row["resource"]
    if change == "moved":
        return f"Store {store} moved from {evidence.get('before')} to {evidence.get('after')}."
    if change == "gained-copy":
        return (
            f"Store {store} gained a copy, {evidence.get('new_copy')}, in {evidence.get('after')}."
        )
    return f"Store {store} holding protected data appeared in {evidence.get('after')}."


def _describe_legacy(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    records = evidence.get("records")
    held = "an unknown number of" if records is None else f"{records:,}"
    return (
        f"Store {row['resource']} still holds {held} records of protected data in legacy "
        f"location {evidence.get('legacy_location')}, {evidence.get('days_overdue')} day(s) "
        f"after the deadline of {evidence.get('deadline')}."
    )


# Message builders by the name a rule's metadata gives (`message: builder:`).
BUILDERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {
        "residency.store-outside-approved": _describe_store,
        "residency.copy-outside-approved": _describe_copy,
        "residency.copy-crosses-partition": _describe_crossing,
        "residency.location-unknown": _describe_unknown,
        "residency.store-unreadable": _describe_unreadable,
        "residency.location-changed": _describe_changed,
        "residency.legacy-not-emptied": _describe_legacy,
    }
)
