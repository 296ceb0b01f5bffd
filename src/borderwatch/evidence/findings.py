"""Findings from rule results: stable ids, messages, provenance, and their order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.rules.base import Rule


def finding(rule: Rule, row: dict[str, Any], versions: dict[str, str]) -> Finding:
    evidence = {k: v for k, v in (row.get("evidence") or {}).items() if v not in (None, "", [])}
    return Finding(
        # `subject` lets a rule tell apart findings about the same resource (e.g. two
        # different changes to one store); rules without it keep their historic ids.
        id=finding_id(
            rule.id,
            row.get("resource"),
            row.get("principal"),
            row.get("country"),
            *([row["subject"]] if row.get("subject") else []),
        ),
        rule=rule.id,
        # A rule may take its severity from the policy (the coverage rules do).
        severity=Severity(row["severity"]) if row.get("severity") else rule.severity,
        status=Status.OPEN,
        title=rule.title,
        message=rule.describe(row),
        resource=row.get("resource"),
        principal=row.get("principal"),
        person=row.get("person"),
        country=row.get("country"),
        data_classes=tuple(row.get("data_classes") or ()),
        count=int(row.get("count") or 0),
        first_seen=_iso(row.get("first_seen")),
        last_seen=_iso(row.get("last_seen")),
        evidence=evidence,
        provenance={"references": list(rule.references), "data": versions},
    )


def finding_order(finding: Finding) -> tuple[int, int, str, str]:
    return (
        0 if finding.status is Status.OPEN else 1,
        -finding.severity.rank,
        finding.rule,
        finding.id,
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        return value.isoformat().replace("+00:00", "Z")
    return str(value)
