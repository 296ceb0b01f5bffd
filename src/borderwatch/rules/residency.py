"""Residency rules: every store and every copy of protected data is in an approved place."""

from __future__ import annotations

from typing import Any

from borderwatch.model.findings import Severity
from borderwatch.rules.base import Rule

_REFERENCES = (
    "Policy: data_classes.<class>.storage.approved",
    "CFIUS mitigation: facilities and data located only in approved jurisdictions",
    "28 CFR 202.248 (CISA security requirements: data-level controls)",
)


def _residency_sql(verdict: str, copies: bool | None) -> str:
    """Stores with the given verdict: originals (False), copies (True) or both (None)."""
    copy_filter = {True: "s.copy_of IS NOT NULL", False: "s.copy_of IS NULL", None: "TRUE"}[copies]
    return f"""
    SELECT r.store_id AS resource, NULL AS principal, NULL AS person,
        CASE WHEN len(flatten(list(r.outside_countries))) > 0
             THEN list_sort(list_distinct(flatten(list(r.outside_countries))))[1] END
            AS country,
        list_sort(list(DISTINCT r.data_class)) AS data_classes,
        1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
        struct_pack(
            provider := any_value(s.provider),
            region := any_value(s.region),
            location := any_value(s.location),
            location_kind := any_value(s.location_kind),
            location_reason := any_value(s.location_reason),
            partition := nullif(any_value(s.partition), ''),
            partition_not_approved := bool_or(r.partition_blocked),
            countries := (SELECT list(c.country ORDER BY c.country) FROM store_countries c
                          WHERE c.store_id = r.store_id),
            outside_countries := list_sort(list_distinct(flatten(list(r.outside_countries)))),
            service := any_value(s.service),
            records := any_value(s.records),
            copy_path := any_value(s.copy_path),
            copy_kind := any_value(s.copy_kind),
            copy_problem := any_value(s.copy_problem),
            copied_from := any_value(s.copy_of),
            copied_from_partition := nullif(any_value(o.partition), ''),
            declared_at := any_value(s.origin)
        ) AS evidence
    FROM residency_by_class r JOIN stores s USING (store_id)
        LEFT JOIN stores o ON o.store_id = s.copy_of
    WHERE r.verdict = '{verdict}' AND {copy_filter}
    GROUP BY r.store_id
    """


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


# A copy and the store it copies in different partitions: no provider replicates across
# a partition (separate accounts, credentials, endpoints), so the data was exported, or
# the inventory declares the copy or its region wrongly. Judged whether or not both
# places are approved. A partition left empty (on-premises, unknown) is no boundary.
_CROSSES_PARTITION_SQL = """
SELECT s.store_id AS resource, NULL AS principal, NULL AS person,
    (SELECT min(c.country) FROM store_countries c WHERE c.store_id = s.store_id) AS country,
    (SELECT list(DISTINCT p.data_class ORDER BY p.data_class)
     FROM protected_store_classes p WHERE p.store_id = s.store_id) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(provider := s.provider, region := s.region, partition := s.partition,
                copied_from := o.store_id, copied_from_provider := o.provider,
                copied_from_region := o.region, copied_from_partition := o.partition,
                copy_kind := s.copy_kind, copy_path := s.copy_path,
                declared_at := s.origin) AS evidence
FROM stores s JOIN stores o ON o.store_id = s.copy_of
WHERE s.partition <> '' AND o.partition <> '' AND lower(s.partition) <> lower(o.partition)
  AND EXISTS (SELECT 1 FROM protected_store_classes p WHERE p.store_id = s.store_id)
"""


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


_CHANGED_SQL = """
SELECT c.store_id AS resource, NULL AS principal, NULL AS person, NULL AS country,
    coalesce((SELECT list(DISTINCT p.data_class ORDER BY p.data_class)
              FROM protected_store_classes p WHERE p.store_id IN (c.store_id, c.detail)),
             []) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    c.kind || ':' || coalesce(c.detail, '') AS subject,
    struct_pack(change := c.kind, before := c.before, after := c.after,
                new_copy := c.detail) AS evidence
FROM inventory_changes c
WHERE c.kind IN ('appeared', 'moved', 'gained-copy')
  AND EXISTS (SELECT 1 FROM protected_store_classes p
              WHERE p.store_id IN (c.store_id, c.detail))
"""

_LEGACY_SQL = """
SELECT h.store_id AS resource, NULL AS principal, NULL AS person,
    (SELECT min(c.country) FROM store_countries c WHERE c.store_id = h.store_id) AS country,
    (SELECT list(DISTINCT p.data_class ORDER BY p.data_class)
     FROM protected_store_classes p WHERE p.store_id = h.store_id) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(legacy_location := h.legacy, deadline := CAST(h.deadline AS VARCHAR),
                days_overdue := datediff('day', h.deadline, h.as_of),
                records := h.records) AS evidence
FROM legacy_holdings h
WHERE h.as_of > h.deadline AND coalesce(h.records, 1) > 0
"""


# A quarantined row is judged on what can still be read of it: the classes it names
# (with the policy's store_classes patterns), or nothing at all when even those are
# unreadable. Either way it is a finding on that row, never a silent drop.
_UNREADABLE_SQL = """
SELECT coalesce(u.store_id, u.row_name) AS resource, NULL AS principal, NULL AS person,
    NULL AS country,
    coalesce(list_sort(list_intersect(
        u.data_classes, (SELECT coalesce(list(data_class), []) FROM protected_classes))), [])
        AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(declared_at := u.declared_at, reason := u.reason,
                classes_read := u.data_classes IS NOT NULL,
                named_classes := u.data_classes) AS evidence
FROM unreadable_stores u
WHERE u.data_classes IS NULL
   OR len(list_intersect(
        u.data_classes, (SELECT coalesce(list(data_class), []) FROM protected_classes))) > 0
"""


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


def rules() -> list[Rule]:
    """The residency rule family."""
    return [
        Rule(
            id="residency.store-outside-approved",
            title="Protected data stored outside the approved locations",
            severity=Severity.HIGH,
            rationale="A store holding protected data is in a provider, region or country "
            "the policy does not approve.",
            references=_REFERENCES,
            sql=_residency_sql("outside", copies=False),
            describe=_describe_store,
        ),
        Rule(
            id="residency.copy-outside-approved",
            title="A copy of protected data lands outside the approved locations",
            severity=Severity.HIGH,
            rationale="Replicas, backups and snapshots hold the same data; a copy outside "
            "the approved locations defeats the agreement as surely as the original.",
            references=_REFERENCES,
            sql=_residency_sql("outside", copies=True),
            describe=_describe_copy,
        ),
        Rule(
            id="residency.copy-crosses-partition",
            title="A copy of protected data is in another partition than its original",
            severity=Severity.MEDIUM,
            rationale="Partitions (AWS GovCloud, China, ISO, European Sovereign Cloud; "
            "Azure's national clouds; OCI realms) are hard boundaries with separate "
            "accounts and credentials: no replication crosses one, so such a copy is an "
            "export nobody declared as one, or the inventory is wrong.",
            references=(*_REFERENCES, "Input: the copy_of and region of both stores"),
            sql=_CROSSES_PARTITION_SQL,
            describe=_describe_crossing,
        ),
        Rule(
            id="residency.location-unknown",
            title="Protected data in a location that cannot be established",
            severity=Severity.HIGH,
            rationale="Unknown is a verdict, not a pass: a store whose region is missing "
            "or not in the location registry cannot be shown to be in an approved place.",
            references=_REFERENCES,
            sql=_residency_sql("unknown", copies=None),
            describe=_describe_unknown,
        ),
        Rule(
            id="residency.store-unreadable",
            title="An inventory row of protected data could not be read",
            severity=Severity.HIGH,
            rationale="A quarantined inventory row that names a protected class, or whose "
            "classes cannot be read, is a store nobody judged: fix the row so its location "
            "can be checked.",
            references=(*_REFERENCES, "Input: the inventory row named in the finding"),
            sql=_UNREADABLE_SQL,
            describe=_describe_unreadable,
        ),
        Rule(
            id="residency.location-changed",
            title="Where protected data is stored changed since the previous inventory",
            severity=Severity.MEDIUM,
            rationale="Agreements require notice before storage locations change: a "
            "protected store appeared, moved region or gained a copy.",
            references=("Policy: --previous-inventory (docs/inventory-history.md)",),
            sql=_CHANGED_SQL,
            describe=_describe_changed,
        ),
        Rule(
            id="residency.legacy-not-emptied",
            title="Protected data still in a legacy location after its deadline",
            severity=Severity.HIGH,
            rationale="The policy's legacy locations (the old own data centres) must be "
            "emptied of protected data by their deadline.",
            references=("Policy: legacy_locations (docs/inventory-history.md)",),
            sql=_LEGACY_SQL,
            describe=_describe_legacy,
        ),
    ]
