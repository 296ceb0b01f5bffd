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
            countries := (SELECT list(c.country ORDER BY c.country) FROM store_countries c
                          WHERE c.store_id = r.store_id),
            outside_countries := list_sort(list_distinct(flatten(list(r.outside_countries)))),
            service := any_value(s.service),
            records := any_value(s.records),
            copy_path := any_value(s.copy_path),
            copy_problem := any_value(s.copy_problem),
            declared_at := any_value(s.origin)
        ) AS evidence
    FROM residency_by_class r JOIN stores s USING (store_id)
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


def _describe_store(row: dict[str, Any]) -> str:
    classes = ", ".join(row.get("data_classes") or [])
    return (
        f"Store {row['resource']} holds {classes} in {_where(row)}, outside the approved locations."
    )


def _describe_copy(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    path = " → ".join(evidence.get("copy_path") or [row["resource"]])
    classes = ", ".join(row.get("data_classes") or [])
    return f"Copy {path} carries {classes} to {_where(row)}, outside the approved locations."


def _describe_unknown(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    reason = evidence.get("location_reason") or "the location is not in the location registry"
    return (
        f"Store {row['resource']} holds protected data but its location cannot be "
        f"established: {reason}."
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
            id="residency.location-unknown",
            title="Protected data in a location that cannot be established",
            severity=Severity.HIGH,
            rationale="Unknown is a verdict, not a pass: a store whose region is missing "
            "or not in the location registry cannot be shown to be in an approved place.",
            references=_REFERENCES,
            sql=_residency_sql("unknown", copies=None),
            describe=_describe_unknown,
        ),
    ]
