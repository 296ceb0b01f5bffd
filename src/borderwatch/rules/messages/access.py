"""Messages of the access rules (rules/access/*.yaml name them): one sentence per finding.

Each builder takes the rule's result row (resource, principal, person, country,
data_classes, count, evidence) and, where the rule's metadata gives them, its `with:`
arguments. Python, not a template, because the sentence depends on the evidence (which
bases, whether IP data sources disagree).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any


def _describe_anonymized(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    kinds = ", ".join(evidence.get("anonymisers") or []) or "an anonymiser"
    who = row.get("principal") or "an unidentified principal"
    return (
        f"{who} reached {row['resource']} {row['count']} time(s) through {kinds}; the "
        "address hides where the person was and the identity directory does not say."
    )


_BASIS_TEXT = {
    "corporate_egress": "the organisation's own egress range at that office",
    "caller_ip": "the caller IP's country",
    "cloud_host": "the cloud region hosting the caller (a workload, not a person)",
    "work_country": "the person's work country",
    "approved_travel": "the country of the person's approved travel that day",
    "provider_region": "the region of the cloud service that made the call",
}


def _describe_covered(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    who = row.get("person") or row.get("principal") or "an unidentified principal"
    return (
        f"{who}, a covered person with respect to {row['country']} "
        f"({evidence.get('covered_basis') or 'see evidence'}), reached {row['resource']} "
        f"({', '.join(row.get('data_classes') or [])}) {row['count']} time(s), wherever "
        "the access came from."
    )


def _describe_access_from(row: dict[str, Any], what: str) -> str:
    """`what` names the clause: "a prohibited country", "outside the countries ..."."""
    evidence = row.get("evidence") or {}
    bases = " and ".join(_basis_text(b, evidence) for b in evidence.get("basis") or [])
    who = row.get("person") or row.get("principal") or "an unidentified principal"
    return (
        f"{who} reached {row['resource']} ({', '.join(row.get('data_classes') or [])}) "
        f"{row['count']} time(s) from {row['country']}, {what}, by {bases} "
        f"(confidence: {evidence.get('confidence', 'none')}){_disagreement_text(evidence)}."
    )


def _disagreement_text(evidence: dict[str, Any]) -> str:
    """Names a disagreement between IP data sources, and the source that decided."""
    disagreements = evidence.get("ip_disagreements") or []
    if not disagreements:
        return ""
    countries = sorted({c for item in disagreements for c in item.split(",")})
    decided = evidence.get("country_source") or "the first source in precedence order"
    return (
        f"; the IP data sources disagree ({', '.join(countries)}: see ip_answers), "
        f"{decided} decided"
    )


def _basis_text(basis: str, evidence: dict[str, Any]) -> str:
    if basis == "caller_ip":
        kinds = evidence.get("ip_country_kinds") or ["registered"]
        return f"the caller IP's {' or '.join(kinds)} country"
    return _BASIS_TEXT.get(basis, basis)


def _describe_unknown(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    kinds = ", ".join(k for k in evidence.get("caller_kinds") or [] if k) or "no caller"
    who = row.get("principal") or "an unidentified principal"
    hosts = evidence.get("cloud_hosts") or []
    inside = f", inside {', '.join(hosts)} whose country is not known" if hosts else ""
    return (
        f"{who} reached {row['resource']} {row['count']} time(s) and neither the caller "
        f"({kinds}{inside}) nor the identity directory establishes where the caller was."
    )


# Message builders by the name a rule's metadata gives (`message: builder:`).
BUILDERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {
        "access.from-country": _describe_access_from,
        "access.covered-person": _describe_covered,
        "access.anonymized-caller": _describe_anonymized,
        "access.unknown-location": _describe_unknown,
    }
)
