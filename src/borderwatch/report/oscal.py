"""assessment-results.oscal.json: the scan as OSCAL assessment results.

Validated and written by compliance-trestle's pydantic models (the `oscal` extra; OSCAL
1.2.1 as trestle models it), the form US assessors exchange results in: the document is
put together in OSCAL's JSON names, read into trestle's `AssessmentResults` (which
refuses anything OSCAL does not allow) and serialised by it. What goes where:

- `metadata`: the policy's name and version, the scan's end time, the verdict.
- `import-ap`: borderwatch has no OSCAL assessment plan; the plan is the policy, so the
  reference points at a back-matter resource naming the policy (name, version, SHA-256).
- `results[0].reviewed-controls`: the rules that ran, by rule id. They are not controls
  of an OSCAL catalogue; each checks the policy clauses and regulations its references
  name (kept as `reference` properties), which is what an assessor reviews.
- one `observation` per finding: what was seen (the message), its severity, rule,
  subject, count, and the input file and line it rests on (`relevant-evidence`).
- one `finding` per finding: its rule as the objective, `not-satisfied` while open or
  muted (muting marks, it never deletes: the exception is in the remarks), `satisfied`
  when resolved; a coverage finding is `not-satisfied` with reason `other` and says the
  check could not be made for all of the data. With `scan --history`, each finding has
  `history-status` and `first-found` properties, and the findings of the previous run
  that are gone are findings of their own, `satisfied`.

Text from inputs that OSCAL constrains (titles and property values: no leading or
trailing blanks, one line) is folded to one line; descriptions keep it as written.
UUIDs are derived from the scan (policy hash, start and end) and the finding ids, so
rendering one result twice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from borderwatch import __version__
from borderwatch.model.findings import Finding, Status
from borderwatch.model.history import TrackedFinding
from borderwatch.model.scan import RuleInfo, ScanResult, is_coverage
from borderwatch.report import filelines, history_marks
from borderwatch.report.extras import require

# uuid5 namespace of borderwatch's OSCAL documents (itself uuid5(NAMESPACE_URL, name)).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "borderwatch:oscal-assessment-results")
# OSCAL tokens (property names, control ids): a letter or _, then letters, digits, . - _
_TOKEN = re.compile(r"^[_A-Za-z][_A-Za-z0-9.\-]*$")
# The namespace of our property names (OSCAL wants one on names it does not define).
NS = "urn:borderwatch:oscal"
NO_RULE = "borderwatch-no-rule-ran"


def one_line(value: object) -> str:
    """Text OSCAL accepts as a title or property value: one line, no outer blanks."""
    return " ".join(str(value).split())


class OscalReporter:
    """assessment-results.oscal.json: OSCAL assessment results of the scan."""

    name = "oscal"
    output = "oscal"
    by_default = False
    filename = "assessment-results.oscal.json"

    def check(self) -> None:
        require("trestle.oscal.assessment_results", "oscal", "oscal")

    def render(self, result: ScanResult) -> bytes:
        self.check()
        from trestle.oscal.assessment_results import AssessmentResults

        document = AssessmentResults.model_validate(assessment_results(result))
        return bytes(document.oscal_serialize_json_bytes(pretty=True)) + b"\n"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def _props(pairs: list[tuple[str, object]]) -> list[dict[str, str]]:
    props = []
    for name, value in pairs:
        text = one_line(value) if value is not None else ""
        if text:
            props.append({"name": name, "value": text, "ns": NS})
    return props


def _drop_empty(value: dict[str, Any]) -> dict[str, Any]:
    """OSCAL has no empty lists or nulls: leave such fields out."""
    return {k: v for k, v in value.items() if v not in (None, [], "")}


def _when(stamp: str) -> str:
    """An ISO time with its offset, as OSCAL's date-time-with-timezone wants it."""
    try:
        value = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        value = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def assessment_results(result: ScanResult) -> dict[str, Any]:
    """The scan as OSCAL assessment results, in OSCAL's JSON names (the inside of
    `{"assessment-results": ...}`), for trestle's model to validate."""
    from trestle.oscal import OSCAL_VERSION

    document = _uuid("document", result.policy_sha256, result.started_at, result.finished_at)
    policy_resource = _uuid(document, "policy")
    rules = {rule.id: rule for rule in result.rules}
    # The rules that ran, then any a finding names that is not among them.
    rule_ids = list(dict.fromkeys([*rules, *(f.rule for f in result.findings)]))
    ran = [rule_id for rule_id in rule_ids if _TOKEN.match(rule_id)]
    untokened = [rule_id for rule_id in rule_ids if not _TOKEN.match(rule_id)]
    locate = filelines.locator(result)
    tracked = history_marks.marks(result)
    observations, findings = [], []
    for finding in history_marks.with_resolved(result):
        observation = _observation(finding, document, result, locate(finding))
        observations.append(observation)
        findings.append(
            _finding(
                finding,
                document,
                observation["uuid"],
                rules.get(finding.rule),
                tracked.get(finding.id),
            )
        )
    finished = _when(result.finished_at)
    title = one_line(
        f"borderwatch assessment results: {result.policy_name} {result.policy_version}"
    )
    remarks = []
    if untokened:
        remarks.append("Rules whose ids are not OSCAL tokens, not listed: " + ", ".join(untokened))
    if not ran:
        # OSCAL needs one selected control; say plainly that none was reviewed.
        ran = [NO_RULE]
        remarks.append(f"No rule ran: {NO_RULE} stands for none.")
    references = [ref for r in ran if r in rules for ref in rules[r].references]
    selection = _drop_empty(
        {
            "include-controls": [{"control-id": rule_id} for rule_id in ran],
            "props": _props([("reference", ref) for ref in references]),
            "remarks": " ".join(remarks) or None,
        }
    )
    scan = _drop_empty(
        {
            "uuid": _uuid(document, "result"),
            "title": "borderwatch scan",
            "description": (
                f"Scan of data residency and access jurisdiction against policy "
                f"{result.policy_name} {result.policy_version}: verdict "
                f"{result.verdict.upper()} (fails on {result.fail_on.value} and above), "
                f"{len(result.findings)} finding(s), {result.events_total} event(s) read."
            ),
            "start": _when(result.started_at),
            "end": finished,
            "props": _props([("verdict", result.verdict)]),
            "reviewed-controls": {
                "description": "The borderwatch rules that ran, by rule id. They are not "
                "controls of an OSCAL catalogue: each checks the policy clauses and "
                "regulations its references name.",
                "control-selections": [selection],
            },
            "observations": observations,
            "findings": findings,
        }
    )
    return {
        "uuid": document,
        "metadata": {
            "title": title or "borderwatch assessment results",
            "last-modified": finished,
            "version": one_line(result.policy_version) or "unversioned",
            "oscal-version": OSCAL_VERSION,
            "props": _props(
                [
                    ("verdict", result.verdict),
                    ("fail-on", result.fail_on.value),
                    ("generator", f"borderwatch {__version__}"),
                ]
            ),
        },
        "import-ap": {
            "href": f"#{policy_resource}",
            "remarks": "borderwatch has no OSCAL assessment plan: the plan is the policy, "
            "named in back-matter.",
        },
        "results": [scan],
        "back-matter": {
            "resources": [
                _drop_empty(
                    {
                        "uuid": policy_resource,
                        "title": one_line(f"Policy {result.policy_name} {result.policy_version}")
                        or "Policy",
                        "description": "The policy the scan checked (the assessment plan).",
                        "props": _props([("policy-sha256", result.policy_sha256)]),
                    }
                )
            ]
        },
    }


def _observation(
    finding: Finding, document: str, result: ScanResult, place: filelines.FileLine
) -> dict[str, Any]:
    evidence: list[dict[str, str]] = []
    if place.path:
        path = filelines.shown_path(place.path, result.scan_root)
        where = f"{path}:{place.line}" if place.line else path
        evidence.append(
            {"href": filelines.uri_reference(path), "description": f"{place.kind}: {where}"}
        )
    samples = (finding.evidence or {}).get("sample_event_ids")
    if isinstance(samples, list) and samples:
        evidence.append(
            {"description": "log events (by event id): " + ", ".join(map(str, samples))}
        )
    return _drop_empty(
        {
            "uuid": _uuid(document, "observation", finding.id),
            "title": one_line(finding.title) or finding.rule,
            "description": finding.message or finding.title or finding.rule,
            "props": _props(
                [
                    ("finding-id", finding.id),
                    ("rule", finding.rule),
                    ("severity", finding.severity.value),
                    ("status", finding.status.value),
                    ("resource", finding.resource),
                    ("principal", finding.principal),
                    ("country", finding.country),
                    ("count", finding.count),
                    ("first-seen", finding.first_seen),
                    ("last-seen", finding.last_seen),
                ]
            ),
            "methods": ["TEST"],
            "types": ["finding"],
            "relevant-evidence": evidence,
            "collected": _when(result.finished_at),
        }
    )


def _finding(
    finding: Finding,
    document: str,
    observation: str,
    rule: RuleInfo | None,
    tracked: TrackedFinding | None = None,
) -> dict[str, Any]:
    resolved = finding.status is Status.RESOLVED
    coverage = is_coverage(finding)
    remarks = None
    if finding.exception is not None:
        exc = finding.exception
        remarks = (
            f"Muted by exception {exc.id}: {exc.reason} (approved by {exc.approver}, "
            f"ticket {exc.ticket}, expires {exc.expires})."
        )
    elif coverage and not resolved:
        remarks = "The check could not be made for all of the data (coverage): not a pass."
    target = _drop_empty(
        {
            "type": "objective-id",
            "target-id": finding.rule if _TOKEN.match(finding.rule) else "borderwatch-rule",
            "title": one_line(rule.title) if rule else None,
            "status": {
                "state": "satisfied" if resolved else "not-satisfied",
                "reason": "pass" if resolved else ("other" if coverage else "fail"),
            },
        }
    )
    return _drop_empty(
        {
            "uuid": _uuid(document, "finding", finding.id),
            "title": one_line(finding.title) or finding.rule,
            "description": finding.message or finding.title or finding.rule,
            "props": _props(
                [
                    ("finding-id", finding.id),
                    ("severity", finding.severity.value),
                    # scan --history: new, open, reopened or resolved, and since when.
                    *(
                        [
                            ("history-status", tracked.status.value),
                            ("first-found", tracked.first_day),
                        ]
                        if tracked
                        else []
                    ),
                ]
            ),
            "target": target,
            "related-observations": [{"observation-uuid": observation}],
            "remarks": remarks,
        }
    )
