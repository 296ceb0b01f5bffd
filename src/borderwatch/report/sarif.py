"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One run, tool `borderwatch`; one reporting descriptor per rule that has a finding; one
result per open or muted finding (muted ones carry an accepted external suppression;
resolved ones are left out, but for `absent` below). The level follows the severity:
critical/high -> error, medium -> warning, low/info -> note;
`properties.security-severity` gives GitHub the numeric score it sorts by.
`partialFingerprints.borderwatchFindingId` is the finding's stable id, so a finding
keeps its identity (and its dismissal) from run to run. With `scan --history`, each
result has a `baselineState` against the previous run (`new` for a new or reopened
finding, `unchanged` for one open before), and each finding of the previous run that is
gone is a result of baselineState `absent`.

For a scan, each result points at a file and line of the inputs (report/filelines.py):
the inventory row a residency finding is about, the row declaring the store an access
finding reached, or the scan's inventory as a whole; `properties.locationKind` says
which. Paths below the scan root are relative, with `uriBaseId` `%SRCROOT%` and the root
in `originalUriBaseIds`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from borderwatch import __version__
from borderwatch.model.findings import Finding, Severity, Status
from borderwatch.model.history import HistoryStatus
from borderwatch.model.scan import RuleInfo, ScanResult
from borderwatch.report import filelines, history_marks

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
ROOT_BASE_ID = "%SRCROOT%"

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
    # The uriBaseId `uri` is relative to (a key of the run's originalUriBaseIds).
    base_id: str | None = None
    # What the file and line are (report/filelines.py), kept in the result's properties.
    kind: str | None = None


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


def _rule_descriptor(rule_id: str, rule: RuleInfo | None, severity: Severity) -> dict[str, Any]:
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


def to_sarif(
    findings: Iterable[Finding],
    *,
    artifact_uri: str,
    locate: Locate | None = None,
    rules: Iterable[RuleInfo] = (),
    tool_version: str = __version__,
    properties: Mapping[str, Any] | None = None,
    root_uri: str | None = None,
    baseline: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log (as a dict) of the findings.

    `artifact_uri` is the file every result points at unless `locate` gives another
    (for plan-check: the plan file). `locate(finding)` returns a `Where`; its `logical`
    name (a Terraform address, a store id) becomes the result's logical location, so a
    pull request shows the resource that fails. `rules` (the scan's `ScanResult.rules`)
    describe the rules; a finding of a rule not among them is described by its id.
    `root_uri` (a file URI ending in '/') is what a `Where.base_id` of `%SRCROOT%` means.
    `baseline` (finding id -> SARIF baselineState) marks results against an earlier run;
    a resolved finding is shown only when it has one (`absent`).
    """
    locate = locate or locate_by_resource
    catalog = {rule.id: rule for rule in rules}
    states = baseline or {}
    shown = [f for f in findings if f.status is not Status.RESOLVED or f.id in states]
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for finding in shown:
        if finding.rule not in index:
            index[finding.rule] = len(descriptors)
            descriptors.append(
                _rule_descriptor(finding.rule, catalog.get(finding.rule), finding.severity)
            )
    places = [locate(f) for f in shown]
    results = [
        _result(f, index[f.rule], artifact_uri, where)
        for f, where in zip(shown, places, strict=True)
    ]
    for finding, item in zip(shown, results, strict=True):
        if finding.id in states:
            item["baselineState"] = states[finding.id]
    # Every file a result points at, once, in order of first use.
    artifacts = dict.fromkeys(
        (where.uri, where.base_id) if where.uri else (artifact_uri, None) for where in places
    ) or {(artifact_uri, None): None}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "borderwatch",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": descriptors,
            }
        },
        "artifacts": [{"location": _artifact_location(uri, base)} for uri, base in artifacts],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if root_uri:
        run["originalUriBaseIds"] = {ROOT_BASE_ID: {"uri": root_uri}}
    if properties:
        run["properties"] = dict(properties)
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _artifact_location(uri: str, base_id: str | None) -> dict[str, str]:
    return {"uri": uri, "uriBaseId": base_id} if base_id else {"uri": uri}


def _result(finding: Finding, rule_index: int, artifact_uri: str, where: Where) -> dict[str, Any]:
    artifact = _artifact_location(where.uri, where.base_id) if where.uri else {"uri": artifact_uri}
    physical: dict[str, Any] = {"artifactLocation": artifact}
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
            "principal": finding.principal,
            "country": finding.country,
            "dataClasses": list(finding.data_classes),
            "count": finding.count,
        },
    }
    if where.kind:
        result["properties"]["locationKind"] = where.kind
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


def scan_locator(result: ScanResult) -> Locate:
    """Where each finding of a scan points: its file and line (report/filelines.py), the
    path relative to the scan root where it lies below it, else a file URI."""
    origins = filelines.store_origins(result)
    fallback = filelines.first_inventory(result)
    root = result.scan_root

    def locate(finding: Finding) -> Where:
        place = filelines.locate(finding, origins, fallback)
        uri, base = _file_uri(place.path, root) if place.path else (None, None)
        return Where(
            uri=uri, line=place.line, logical=finding.resource, base_id=base, kind=place.kind
        )

    return locate


def _folder_uri(root: str) -> str | None:
    """The scan root as a file URI ending in '/' (SARIF's originalUriBaseIds), if known."""
    if not root.startswith("/"):
        return None
    uri = PurePosixPath(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _file_uri(path: str, root: str) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative to %SRCROOT% below the root, else a file URI."""
    relative = filelines.relative_path(path, root)
    if relative is not None:
        return filelines.uri_reference(relative), ROOT_BASE_ID
    if PurePosixPath(path).is_absolute():
        return PurePosixPath(path).as_uri(), None
    return filelines.uri_reference(path), None


class SarifReporter:
    """findings.sarif for a scan: results point at the input file and line they are about."""

    name = "sarif"
    output = "sarif"
    filename = "findings.sarif"

    def render(self, result: ScanResult) -> bytes:
        root = result.scan_root
        inventory = filelines.first_inventory(result)
        artifact = _file_uri(inventory, root)[0] if inventory else "borderwatch-inventory"
        log = to_sarif(
            history_marks.with_resolved(result),
            artifact_uri=artifact,
            locate=scan_locator(result),
            root_uri=_folder_uri(root),
            rules=result.rules,
            properties={
                "policy": result.policy_name,
                "policyVersion": result.policy_version,
                "verdict": result.verdict,
            },
            baseline={
                finding_id: _BASELINE_STATE[tracked.status]
                for finding_id, tracked in history_marks.marks(result).items()
            },
        )
        return dumps(log)


# A finding's history status as SARIF names the state of a result against a baseline.
_BASELINE_STATE = {
    HistoryStatus.NEW: "new",
    HistoryStatus.REOPENED: "new",
    HistoryStatus.OPEN: "unchanged",
    HistoryStatus.RESOLVED: "absent",
}
