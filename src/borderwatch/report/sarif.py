"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One run, tool `borderwatch`; one reporting descriptor per rule that has a finding; one
result per open or muted finding (muted ones carry an accepted external suppression;
resolved ones are left out). The level follows the severity: critical/high -> error,
medium -> warning, low/info -> note; `properties.security-severity` gives GitHub the
numeric score it sorts by. `partialFingerprints.borderwatchFindingId` is the finding's
stable id, so a finding keeps its identity (and its dismissal) from run to run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from borderwatch import __version__
from borderwatch.model.findings import Finding, Severity, Status
from borderwatch.model.scan import ScanResult
from borderwatch.rules.base import Rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


@dataclass(frozen=True)
class Where:
    """Where a finding points: a file (and line), and a logical name such as a TF address."""

    uri: str | None = None
    line: int | None = None
    logical: str | None = None
    logical_kind: str = "resource"


Locate = Callable[[Finding], Where]


def locate_by_resource(finding: Finding) -> Where:
    """Default: the finding's resource as logical location, its declaring file:line if known."""
    declared = str((finding.evidence or {}).get("declared_at") or "")
    uri, line = None, None
    if declared and "#" not in declared:
        head, _, tail = declared.rpartition(":")
        if head and tail.isdigit():
            uri, line = head, int(tail)
    return Where(uri=uri, line=line, logical=finding.resource)


def _rule_descriptor(rule_id: str, rule: Rule | None, severity: Severity) -> dict[str, Any]:
    title = rule.title if rule else rule_id
    rationale = rule.rationale if rule else title
    help_text = rationale
    if rule and rule.references:
        help_text += "\n\nReferences:\n" + "\n".join(f"- {r}" for r in rule.references)
    sev = rule.severity if rule else severity
    return {
        "id": rule_id,
        "name": "".join(part.title() for part in rule_id.replace("-", ".").split(".")),
        "shortDescription": {"text": title},
        "fullDescription": {"text": rationale},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVELS[sev]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[sev],
            "severity": sev.value,
            "tags": ["security", "data-residency", rule_id.split(".", 1)[0]],
        },
    }


def _builtin_rules() -> dict[str, Rule]:
    from borderwatch.evaluate.rulefiles import builtin_rule_folder, read_rule_folder

    return {rule.id: rule for rule in read_rule_folder(builtin_rule_folder())}


def to_sarif(
    findings: Iterable[Finding],
    *,
    artifact_uri: str,
    locate: Locate | None = None,
    rules: Mapping[str, Rule] | None = None,
    tool_version: str = __version__,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log (as a dict) of the findings.

    `artifact_uri` is the file every result points at unless `locate` gives another
    (for plan-check: the plan file). `locate(finding)` returns a `Where`; its `logical`
    name (a Terraform address, a store id) becomes the result's logical location, so a
    pull request shows the resource that fails.
    """
    locate = locate or locate_by_resource
    catalog = dict(rules) if rules is not None else _builtin_rules()
    shown = [f for f in findings if f.status is not Status.RESOLVED]
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for finding in shown:
        if finding.rule not in index:
            index[finding.rule] = len(descriptors)
            descriptors.append(
                _rule_descriptor(finding.rule, catalog.get(finding.rule), finding.severity)
            )
    results = [_result(f, index[f.rule], artifact_uri, locate(f)) for f in shown]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "borderwatch",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": descriptors,
            }
        },
        "artifacts": [{"location": {"uri": artifact_uri}}],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if properties:
        run["properties"] = dict(properties)
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _result(finding: Finding, rule_index: int, artifact_uri: str, where: Where) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": where.uri or artifact_uri}}
    if where.line:
        physical["region"] = {"startLine": where.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if where.logical:
        location["logicalLocations"] = [
            {
                "name": where.logical.rsplit(".", 1)[-1],
                "fullyQualifiedName": where.logical,
                "kind": where.logical_kind,
            }
        ]
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {"borderwatchFindingId/v1": finding.id},
        "properties": {
            "findingId": finding.id,
            "severity": finding.severity.value,
            "status": finding.status.value,
            "resource": finding.resource,
            "country": finding.country,
            "dataClasses": list(finding.data_classes),
            "count": finding.count,
        },
    }
    if finding.status is Status.MUTED:
        exc = finding.exception
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if exc is not None:
            suppression["justification"] = (
                f"{exc.id}: {exc.reason} (approved by {exc.approver}, ticket {exc.ticket}, "
                f"expires {exc.expires})"
            )
        result["suppressions"] = [suppression]
    return result


def dumps(log: Mapping[str, Any]) -> bytes:
    """The SARIF log as UTF-8 JSON bytes, indented, newline-terminated."""
    return (json.dumps(log, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class SarifReporter:
    """findings.sarif for a scan: results point at the inventory line that declared the store."""

    name = "sarif"
    filename = "findings.sarif"

    def render(self, result: ScanResult) -> bytes:
        inventories: Sequence[str] = [i.path for i in result.inputs if i.kind == "inventory"]
        artifact = inventories[0] if inventories else "borderwatch-inventory"
        log = to_sarif(
            result.findings,
            artifact_uri=artifact,
            properties={
                "policy": result.policy_name,
                "policyVersion": result.policy_version,
                "verdict": result.verdict,
            },
        )
        return dumps(log)
