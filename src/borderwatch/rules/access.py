"""Access rules: who reached protected data, and from which jurisdiction."""

from __future__ import annotations

import re
from typing import Any

from borderwatch.model.findings import Severity
from borderwatch.rules.base import Rule

# Rules read `protected_access`: one row per group of accesses sharing every signal
# (evaluate/views.py), with `events` counted and `sample_event_ids`/`actions` kept per group.
# {span:...}, {samples:...} and {flat:x} below are shared snippets (see _expand).
_PROHIBITED_SQL = """
WITH signals AS (
    SELECT group_id, data_classes, 'corporate_egress' AS basis, egress_country AS country
    FROM protected_access WHERE egress_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes, 'caller_ip', ip_country
    FROM protected_access WHERE ip_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes, 'cloud_host', cloud_host_country
    FROM protected_access WHERE cloud_host_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes,
        CASE WHEN travel_country IS NULL THEN 'work_country' ELSE 'approved_travel' END,
        person_country
    FROM protected_access WHERE person_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes, 'provider_region', service_country
    FROM protected_access WHERE service_country IS NOT NULL
),
-- One row per (group, prohibited country), whatever the number of bases and classes.
hits AS (
    SELECT s.group_id, s.country AS signal_country,
        list(DISTINCT s.basis) AS bases, list(DISTINCT ap.data_class) AS classes
    FROM signals s JOIN access_prohibited ap
      ON ap.country = s.country AND list_contains(s.data_classes, ap.data_class)
     AND ap.clause = '{clause}'
    GROUP BY s.group_id, s.country
)
SELECT pa.store_id AS resource, pa.principal, any_value(pa.person) AS person,
    h.signal_country AS country,
    {flat:h.classes} AS data_classes,
    {span:pa.},
    struct_pack(
        basis := {flat:h.bases},
        confidence := {best_confidence},
        callers := list_sort(list(DISTINCT pa.caller))[1:10],
        caller_kinds := list_sort(list(DISTINCT pa.caller_kind)),
        {ip_signals},
        work_country := any_value(pa.work_country),
        travel_country := any_value(pa.travel_country),
        employer := any_value(pa.employer),
        identity_matched_on := any_value(pa.matched_on),
        {samples:pa.}
    ) AS evidence
FROM hits h JOIN protected_access pa USING (group_id) JOIN access_verdict v USING (group_id)
GROUP BY pa.store_id, pa.principal, h.signal_country
"""

# Registered and located countries side by side, so a disagreement is visible.
_IP_SIGNALS = """ip_country_kinds := {pa.ip_country_kind},
        registered_countries := {pa.ip_registered},
        located_countries := {pa.ip_located},
        country_source := array_to_string(list_sort(list(DISTINCT pa.ip_country_source)
            FILTER (WHERE pa.ip_country_source IS NOT NULL AND pa.ip_country IS NOT NULL)), ', '),
        ip_disagreements := {pa.ip_disagree},
        ip_answers := list_sort(list_distinct(flatten(list(pa.ip_answers)
            FILTER (WHERE pa.ip_answers IS NOT NULL))))[1:30],
        cloud_hosts := {pa.host_provider || ' ' || pa.host_region},
        anonymisers := {pa.anonymiser},
        egress_offices := {pa.egress_office},
        vendor_claimed_countries := {flat:pa.claimed_countries}"""
# {expr} above: the distinct non-null values of expr, sorted.
_IP_SIGNALS = re.sub(
    r"\{(?!flat:)([^}]+)\}",
    lambda m: f"list_sort(list(DISTINCT {m[1]}) FILTER (WHERE ({m[1]}) IS NOT NULL))",
    _IP_SIGNALS,
)

# The best confidence among the finding's groups (high > medium > low > none).
_BEST_CONFIDENCE = """CASE WHEN bool_or(v.confidence = 'high') THEN 'high'
            WHEN bool_or(v.confidence = 'medium') THEN 'medium'
            WHEN bool_or(v.confidence = 'low') THEN 'low' ELSE 'none' END"""


def _expand(sql: str) -> str:
    """Expand the snippets every access rule shares, over the finding's groups (columns
    of protected_access, prefixed by the alias given, e.g. {span:pa.}):

    - {span:p}: the count of accesses and their first and last time;
    - {samples:p}: up to ten actions and sample event ids (evidence fields);
    - {flat:x}: the sorted distinct values of list column x.
    """
    sql = re.sub(
        r"\{span:([^}]*)\}",
        r"sum(\1events) AS count, min(\1first_seen) AS first_seen, "
        r"max(\1last_seen) AS last_seen",
        sql,
    )
    sql = re.sub(
        r"\{samples:([^}]*)\}",
        r"actions := {flat:\1actions}[1:10], "
        r"sample_event_ids := {flat:\1sample_event_ids}[1:10]",
        sql,
    )
    return re.sub(r"\{flat:([^}]+)\}", r"list_sort(list_distinct(flatten(list(\1))))", sql)


_PROHIBITED_SQL = _expand(
    _PROHIBITED_SQL.replace("{ip_signals}", _IP_SIGNALS).replace(
        "{best_confidence}", _BEST_CONFIDENCE
    )
)
# The same query per policy clause, so each finding cites the clause (and law) that fired.
_LISTED_SQL = _PROHIBITED_SQL.replace("{clause}", "prohibited_countries")
_OUTSIDE_ALLOWED_SQL = _PROHIBITED_SQL.replace("{clause}", "allowed_countries")

# Unknown is where a reviewer needs the evidence most: every IP signal is kept.
_UNKNOWN_SQL = _expand(
    """
SELECT pa.store_id AS resource, pa.principal, any_value(pa.person) AS person, NULL AS country,
    any_value(pa.data_classes) AS data_classes,
    {span:pa.},
    struct_pack(
        callers := list_sort(list(DISTINCT coalesce(pa.caller, '(none)')))[1:10],
        caller_kinds := list_sort(list(DISTINCT pa.caller_kind)),
        identity_known := bool_or(pa.person IS NOT NULL),
        {ip_signals},
        {samples:pa.}
    ) AS evidence
FROM protected_access pa JOIN access_verdict v USING (group_id)
WHERE v.effective_country IS NULL AND pa.anonymiser IS NULL
GROUP BY pa.store_id, pa.principal
""".replace("{ip_signals}", _IP_SIGNALS)
)

_ANONYMIZED_SQL = _expand("""
SELECT store_id AS resource, principal, any_value(person) AS person, NULL AS country,
    any_value(data_classes) AS data_classes,
    {span:},
    struct_pack(
        anonymisers := list_sort(list(DISTINCT anonymiser)),
        callers := list_sort(list(DISTINCT caller))[1:10],
        exit_countries := list_sort(list(DISTINCT coalesce(ip_located, ip_registered))),
        identity_known := bool_or(person IS NOT NULL),
        {samples:}
    ) AS evidence
FROM protected_access
WHERE anonymiser IS NOT NULL AND egress_country IS NULL AND person_country IS NULL
GROUP BY store_id, principal
""")


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


_COVERED_SQL = _expand("""
WITH hits AS (
    SELECT pa.group_id, ac.country AS concern, list(DISTINCT ac.data_class) AS classes
    FROM (SELECT group_id, data_classes, unnest(covered_countries) AS concern_country
          FROM protected_access WHERE covered_countries IS NOT NULL) pa
    JOIN access_covered ac
      ON ac.country = pa.concern_country AND list_contains(pa.data_classes, ac.data_class)
    GROUP BY pa.group_id, ac.country
)
SELECT pa.store_id AS resource, pa.principal, any_value(pa.person) AS person,
    h.concern AS country,
    {flat:h.classes} AS data_classes,
    {span:pa.},
    struct_pack(
        covered_basis := any_value(pa.covered_basis),
        employer := any_value(pa.employer),
        resident_country := any_value(pa.resident_country),
        caller_countries := list_sort(list(DISTINCT pa.ip_country)),
        callers := list_sort(list(DISTINCT pa.caller))[1:10],
        {samples:pa.}
    ) AS evidence
FROM hits h JOIN protected_access pa USING (group_id)
GROUP BY pa.store_id, pa.principal, h.concern
""")


def _describe_covered(row: dict[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    who = row.get("person") or row.get("principal") or "an unidentified principal"
    return (
        f"{who}, a covered person with respect to {row['country']} "
        f"({evidence.get('covered_basis') or 'see evidence'}), reached {row['resource']} "
        f"({', '.join(row.get('data_classes') or [])}) {row['count']} time(s), wherever "
        "the access came from."
    )


def _describe_prohibited(row: dict[str, Any]) -> str:
    return _describe_access_from(row, "a prohibited country")


def _describe_outside_allowed(row: dict[str, Any]) -> str:
    return _describe_access_from(row, "outside the countries the policy allows")


def _describe_access_from(row: dict[str, Any], what: str) -> str:
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


def rules() -> list[Rule]:
    """The access rule family."""
    return [
        Rule(
            id="access.prohibited-jurisdiction",
            title="Protected data accessed from a prohibited country",
            severity=Severity.CRITICAL,
            rationale="Access (including view-only) to protected data from a prohibited "
            "jurisdiction, by caller location or by the person's work country.",
            references=(
                "Policy: data_classes.<class>.access.prohibited_countries",
                "28 CFR 202.201 (access), 202.601 (countries of concern)",
            ),
            sql=_LISTED_SQL,
            describe=_describe_prohibited,
        ),
        Rule(
            id="access.outside-allowed-countries",
            title="Protected data accessed from outside the allowed countries",
            severity=Severity.CRITICAL,
            rationale="The policy allows access to this data only from the countries it "
            "lists (e.g. EU data only from the EEA); this access came from elsewhere, by "
            "caller location or by the person's work country.",
            references=("Policy: data_classes.<class>.access.allowed_countries",),
            sql=_OUTSIDE_ALLOWED_SQL,
            describe=_describe_outside_allowed,
        ),
        Rule(
            id="access.covered-person",
            title="Protected data accessed by a covered person",
            severity=Severity.CRITICAL,
            rationale="A covered person (an employee of an entity owned from a country of "
            "concern, or a resident there) may not reach the data, wherever they sit.",
            references=(
                "Policy: data_classes.<class>.access.covered_person_countries",
                "28 CFR 202.211 (covered person), 202.301-302 (prohibited transactions)",
            ),
            sql=_COVERED_SQL,
            describe=_describe_covered,
        ),
        Rule(
            id="access.anonymized-caller",
            title="Protected data accessed through an anonymiser",
            severity=Severity.HIGH,
            rationale="A VPN, proxy, Tor or hosting address hides where the person was; "
            "unless the identity establishes it, the access cannot be judged.",
            references=("Policy: jurisdiction (docs/jurisdiction.md)",),
            sql=_ANONYMIZED_SQL,
            describe=_describe_anonymized,
        ),
        Rule(
            id="access.unknown-location",
            title="Protected data accessed from a location that cannot be established",
            severity=Severity.HIGH,
            rationale="Unknown is a verdict, not a pass: neither the caller address nor "
            "the identity directory says where the caller was.",
            references=("28 CFR 202.1001 (verify and log auditably)",),
            sql=_UNKNOWN_SQL,
            describe=_describe_unknown,
        ),
    ]
