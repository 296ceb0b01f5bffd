"""findings.ocsf.json: every finding as an OCSF event, for SIEMs and security lakes.

Built with py-ocsf-models (the `ocsf` extra), whose pydantic models follow OCSF 1.5.0;
each event is validated by its model as it is built. Access findings (rules
`access.*`: someone reached protected data from somewhere) are **Detection Findings**
(class 2004); every other finding (residency, coverage: the state of the estate
checked against the policy) is a **Compliance Finding** (class 2003), whose
`compliance.status_id` is Fail, or Warning for a coverage finding (the check could not
be made for all of the data: "did not yield a result due to missing information").

With `scan --history`, each event says where its finding stands: a finding already
open in the previous run is an Update, In Progress; a new one a Create, New; a reopened
one an Update, New, with `status_detail` "reopened"; and each finding of the previous
run that is gone is a Close, Resolved, so a SIEM can close what it opened.

The file is one JSON array of events, in the order of findings.json (then the resolved). Fields
borderwatch has and OCSF does not (the rule, the evidence, the exception, the
provenance and the input file and line) are kept under `unmapped.borderwatch`;
docs/outputs.md lists the mapping.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from borderwatch import __version__
from borderwatch.model.findings import Finding, Severity, Status
from borderwatch.model.history import HistoryStatus, TrackedFinding
from borderwatch.model.scan import ResidencyRow, RuleInfo, ScanResult, is_coverage
from borderwatch.report import filelines, history_marks
from borderwatch.report.extras import require

DETECTION_CLASS = 2004
COMPLIANCE_CLASS = 2003
CREATE = 1  # activity_id: a finding was created (by this scan)
UPDATE = 2  # activity_id: a finding known from an earlier run (scan --history)
CLOSE = 3  # activity_id: a finding of the previous run is gone
ACTIVITY_NAME = {CREATE: "Create", UPDATE: "Update", CLOSE: "Close"}
SEVERITY_ID = {
    Severity.INFO: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}
# OCSF finding status: New, Suppressed (an approved exception covers it), Resolved.
STATUS = {
    Status.OPEN: (1, "New"),
    Status.MUTED: (3, "Suppressed"),
    Status.RESOLVED: (4, "Resolved"),
}
CONFIDENCE_ID = {"low": 1, "medium": 2, "high": 3}


def is_detection(finding: Finding) -> bool:
    """Access findings are detections; the rest are compliance findings."""
    return finding.rule.startswith("access.")


def epoch_ms(stamp: str | None) -> int | None:
    """An ISO 8601 time (Z or offset) as milliseconds since the epoch; None if not one."""
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def _plain(value: Any) -> Any:
    """Evidence as plain JSON values (sets and other objects become text)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


class OcsfReporter:
    """findings.ocsf.json: one OCSF Detection or Compliance Finding per finding."""

    name = "ocsf"
    output = "ocsf"
    by_default = False
    filename = "findings.ocsf.json"

    def check(self) -> None:
        require("py_ocsf_models", "ocsf", "ocsf")

    def render(self, result: ScanResult) -> bytes:
        self.check()
        events = ocsf_events(result)
        return (json.dumps(events, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def ocsf_events(result: ScanResult) -> list[dict[str, Any]]:
    """The OCSF events of a scan, as JSON values (each built and validated by its model)."""
    rules = {rule.id: rule for rule in result.rules}
    stores = {row.store_id: row for row in result.residency}
    locate = filelines.locator(result)
    tracked = history_marks.marks(result)
    events = []
    for finding in history_marks.with_resolved(result):
        place = locate(finding)
        event = _event(
            finding, result, rules.get(finding.rule), stores, place, tracked.get(finding.id)
        )
        events.append(event.model_dump(mode="json", exclude_none=True))
    return events


def _history_fields(tracked: TrackedFinding | None) -> dict[str, Any]:
    if tracked is None:
        return {}
    return {
        "history": {
            "status": tracked.status.value,
            "first_run": tracked.first_run,
            "last_run": tracked.last_run,
            "first_day": tracked.first_day,
            "last_day": tracked.last_day,
            "age_days": tracked.age_days,
        }
    }


def _activity_and_status(finding: Finding, tracked: TrackedFinding | None) -> tuple[int, int, str]:
    """(activity_id, status_id, status) of a finding's event, from its status in this run
    and, with a history, in the runs before."""
    status_id, status = STATUS[finding.status]
    if finding.status is Status.RESOLVED:
        return CLOSE, status_id, status
    if tracked is None or tracked.status is HistoryStatus.NEW:
        return CREATE, status_id, status
    if finding.status is Status.OPEN and tracked.status is HistoryStatus.OPEN:
        return UPDATE, 2, "In Progress"
    return UPDATE, status_id, status


def _event(
    finding: Finding,
    result: ScanResult,
    rule: RuleInfo | None,
    stores: dict[str, ResidencyRow],
    place: filelines.FileLine,
    tracked: TrackedFinding | None = None,
) -> Any:
    from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding
    from py_ocsf_models.objects.compliance import Compliance
    from py_ocsf_models.objects.finding_info import FindingInformation
    from py_ocsf_models.objects.metadata import Metadata
    from py_ocsf_models.objects.product import Product

    activity, status_id, status = _activity_and_status(finding, tracked)
    when = epoch_ms(result.finished_at) or 0
    info = FindingInformation(
        uid=finding.id,
        title=finding.title,
        desc=rule.rationale if rule else None,
        types=[finding.rule],
        first_seen_time=epoch_ms(finding.first_seen),
        last_seen_time=epoch_ms(finding.last_seen),
        created_time=when,
        data_sources=sorted({i.format for i in result.inputs if i.kind == "events"}) or None,
    )
    metadata = Metadata(
        product=Product(name="borderwatch", vendor_name="borderwatch", version=__version__),
        uid=finding.id,
        event_code=finding.rule,
        labels=[f"policy:{result.policy_name} {result.policy_version}"],
    )
    where = filelines.shown_path(place.path, result.scan_root) if place.path else None
    common: dict[str, Any] = {
        "metadata": metadata,
        "time": when,
        "activity_id": activity,
        "activity_name": ACTIVITY_NAME[activity],
        "severity_id": SEVERITY_ID[finding.severity],
        "severity": finding.severity.value.title(),
        "status_id": status_id,
        "status": status,
        "message": finding.message,
        "finding_info": info,
        "resources": _resources(finding, stores),
        "unmapped": {
            "borderwatch": _plain(
                {
                    "rule": finding.rule,
                    "status": finding.status.value,
                    "principal": finding.principal,
                    "person": finding.person,
                    "country": finding.country,
                    "data_classes": list(finding.data_classes),
                    "count": finding.count,
                    "evidence": finding.evidence,
                    "exception": None
                    if finding.exception is None
                    else vars(finding.exception).copy(),
                    "provenance": finding.provenance,
                    "location": {"path": where, "line": place.line, "kind": place.kind},
                    **_history_fields(tracked),
                }
            )
        },
    }
    if tracked is not None and tracked.status is HistoryStatus.REOPENED:
        common["status_detail"] = (
            f"reopened: first found {tracked.first_day}, absent from the previous run"
        )
    if finding.exception is not None:
        exc = finding.exception
        common["status_detail"] = (
            f"muted by exception {exc.id}: {exc.reason} (approved by {exc.approver}, "
            f"ticket {exc.ticket}, expires {exc.expires})"
        )
    confidence = str((finding.evidence or {}).get("confidence") or "").lower()
    if confidence in CONFIDENCE_ID:
        common["confidence_id"] = CONFIDENCE_ID[confidence]
        common["confidence"] = confidence.title()
    if is_detection(finding):
        return DetectionFinding(
            **common,
            class_name="Detection Finding",
            type_uid=DETECTION_CLASS * 100 + activity,
            type_name=f"Detection Finding: {ACTIVITY_NAME[activity]}",
            count=finding.count,
        )
    compliance = Compliance(
        control=finding.rule,
        desc=rule.title if rule else finding.title,
        requirements=list(rule.references) if rule and rule.references else None,
        standards=[f"{result.policy_name} {result.policy_version}"],
        # Warning: "did not yield a result due to missing information" (coverage).
        status_id=1 if finding.status is Status.RESOLVED else (2 if is_coverage(finding) else 3),
    )
    return ComplianceFinding(
        **common,
        class_name="Compliance Finding",
        type_uid=COMPLIANCE_CLASS * 100 + activity,
        type_name=f"Compliance Finding: {ACTIVITY_NAME[activity]}",
        compliance=compliance,
    )


def _resources(finding: Finding, stores: dict[str, ResidencyRow]) -> list[Any] | None:
    from py_ocsf_models.objects.resource_details import ResourceDetails

    if not finding.resource:
        return None
    row = stores.get(finding.resource)
    data: dict[str, object] = {}
    if row is not None:
        data = {
            "provider": row.provider,
            "service": row.service,
            "location_kind": row.location_kind,
            "countries": list(row.countries),
            "verdict": row.verdict,
        }
    return [
        ResourceDetails(
            uid=finding.resource,
            name=finding.resource,
            type="data store",
            region=row.region if row else None,
            labels=list(finding.data_classes) or None,
            data=data or None,
        )
    ]
