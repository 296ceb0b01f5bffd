"""findings.junit.xml: the scan as a JUnit test report, for CI systems.

One test suite for the scan; one test case per rule that ran (`classname`
`borderwatch.<family>`, `name` the rule id), so a CI system lists every check, the passed
ones too. A test case fails with one `<failure>` per open finding at or above --fail-on:
exactly the findings that make `scan` exit 1. What does not fail is still said:

- a coverage rule with open findings below --fail-on is `<skipped>` ("INCOMPLETE"): the
  check could not be made for all of the data, which is never a pass;
- open findings below --fail-on and muted findings are listed in the case's
  `<system-out>`;
- with `scan --history`, each finding's text says where it stands against the earlier
  runs (new, open, reopened) and since when.

Text from the inputs goes in as XML text (escaped); characters XML 1.0 cannot hold
(most control characters) are written as [U+XXXX].
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping

from borderwatch.model.findings import Finding, Status
from borderwatch.model.history import TrackedFinding
from borderwatch.model.scan import ScanResult, is_coverage
from borderwatch.report import filelines, history_marks

# Characters XML 1.0 does not allow in a document, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MESSAGE_CHARS = 1000  # of a finding's message in the failure's message attribute


def xml_text(value: object) -> str:
    """Any value as text XML 1.0 can carry (None is empty)."""
    if value is None:
        return ""
    return _NOT_XML.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value))


def _seconds(started: str, finished: str) -> str:
    try:
        start = dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(finished.replace("Z", "+00:00"))
    except ValueError:
        return "0"
    return f"{max(0.0, (end - start).total_seconds()):.3f}"


def _details(
    finding: Finding, place: filelines.FileLine, root: str, tracked: TrackedFinding | None = None
) -> str:
    where = ""
    if place.path:
        path = filelines.shown_path(place.path, root)
        where = f"{path}:{place.line}" if place.line else path
    lines = [
        f"finding {finding.id} ({finding.severity.value}, {finding.status.value})",
        finding.message,
        f"resource: {finding.resource or '-'}",
        f"principal: {finding.principal or '-'}",
        f"country: {finding.country or '-'}",
        f"count: {finding.count}",
        f"seen: {finding.first_seen or '-'} to {finding.last_seen or '-'}",
        f"location ({place.kind}): {where or '-'}",
    ]
    if tracked is not None:
        lines.append(
            f"history: {tracked.status.value}, first found {tracked.first_day} "
            f"(run {tracked.first_run}), {tracked.age_days} day(s) ago"
        )
    if finding.exception is not None:
        exc = finding.exception
        lines.append(
            f"muted by exception {exc.id}: {exc.reason} (approved by {exc.approver}, "
            f"ticket {exc.ticket}, expires {exc.expires})"
        )
    return xml_text("\n".join(lines))


def _rule_ids(result: ScanResult) -> list[str]:
    """The rules that ran, then any rule a finding names that is not among them."""
    ids = [rule.id for rule in result.rules]
    return list(dict.fromkeys([*ids, *(f.rule for f in result.findings)]))


def _case(
    rule_id: str,
    findings: Iterable[Finding],
    result: ScanResult,
    locate: filelines.Locator,
    failing: set[int],
    tracked: Mapping[str, TrackedFinding],
) -> tuple[ET.Element, int, int]:
    """One rule's test case, and how many failures and skips it holds (`failing`: the
    object ids of the findings that make the scan exit 1, ScanResult.failing())."""
    case = ET.Element("testcase", {"classname": f"borderwatch.{rule_id.split('.', 1)[0]}"})
    case.set("name", xml_text(rule_id))
    failures: list[Finding] = []
    quiet: list[Finding] = []
    for finding in findings:
        (failures if id(finding) in failing else quiet).append(finding)
    for finding in failures:
        element = ET.SubElement(case, "failure")
        element.set("type", finding.severity.value)
        element.set("message", xml_text(finding.message[:MESSAGE_CHARS]))
        element.text = _details(finding, locate(finding), result.scan_root, tracked.get(finding.id))
    gaps = [f for f in quiet if f.status is Status.OPEN and is_coverage(f)]
    if gaps:
        skipped = ET.SubElement(case, "skipped")
        skipped.set(
            "message",
            f"INCOMPLETE: {len(gaps)} open coverage finding(s) below --fail-on "
            f"{result.fail_on.value}: the check could not be made for all of the data",
        )
    shown = [f for f in quiet if f.status is not Status.RESOLVED]
    if shown:
        out = ET.SubElement(case, "system-out")
        out.text = "\n\n".join(
            _details(f, locate(f), result.scan_root, tracked.get(f.id)) for f in shown
        )
    return case, len(failures), 1 if gaps else 0


class JunitReporter:
    """findings.junit.xml: a test case per rule, a failure per finding that fails the scan."""

    name = "junit"
    output = "junit"
    by_default = False
    filename = "findings.junit.xml"

    def render(self, result: ScanResult) -> bytes:
        locate = filelines.locator(result)
        by_rule: dict[str, list[Finding]] = {}
        for finding in result.findings:
            by_rule.setdefault(finding.rule, []).append(finding)
        failing = {id(finding) for finding in result.failing()}
        tracked = history_marks.marks(result)
        cases = [
            _case(r, by_rule.get(r, ()), result, locate, failing, tracked)
            for r in _rule_ids(result)
        ]
        failures = sum(n for _, n, _ in cases)
        skipped = sum(n for _, _, n in cases)
        time = _seconds(result.started_at, result.finished_at)
        suites = ET.Element("testsuites", {"name": "borderwatch", "time": time})
        suites.set("tests", str(len(cases)))
        suites.set("failures", str(failures))
        suites.set("errors", "0")
        suite = ET.SubElement(suites, "testsuite")
        suite.set("name", xml_text(f"borderwatch {result.policy_name} {result.policy_version}"))
        for key, value in (
            ("tests", len(cases)),
            ("failures", failures),
            ("errors", 0),
            ("skipped", skipped),
            ("time", time),
            ("timestamp", result.started_at),
        ):
            suite.set(key, xml_text(value))
        properties = ET.SubElement(suite, "properties")
        for key, value in (
            ("verdict", result.verdict),
            ("fail_on", result.fail_on.value),
            ("policy", result.policy_name),
            ("policy_version", result.policy_version),
            ("policy_sha256", result.policy_sha256),
        ):
            ET.SubElement(properties, "property", {"name": key, "value": xml_text(value)})
        suite.extend(case for case, _, _ in cases)
        ET.indent(suites)
        return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
