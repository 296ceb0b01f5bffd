"""findings.sarif describes rules from the ScanResult alone (reporters never see the rules)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from borderwatch import api
from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.model.scan import RuleInfo, ScanResult
from borderwatch.report.sarif import SarifReporter

CASES = Path(__file__).parent / "cases"
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def _result(findings: tuple[Finding, ...], rules: tuple[RuleInfo, ...]) -> ScanResult:
    return ScanResult(
        policy_name="p",
        policy_version="1",
        policy_sha256="0" * 64,
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        fail_on=Severity.HIGH,
        findings=findings,
        inputs=(),
        residency=(),
        access_by_country=(),
        rules=rules,
    )


def _finding(rule: str, severity: Severity) -> Finding:
    return Finding(
        id=finding_id(rule, "store-1"),
        rule=rule,
        severity=severity,
        status=Status.OPEN,
        title="t",
        message="m",
        resource="store-1",
    )


def test_a_plugin_rule_is_described_from_the_scan_result() -> None:
    """A rule no built-in catalogue knows gets its title, rationale, references and
    default level from ScanResult.rules."""
    info = RuleInfo(
        id="acme.vendor-access",
        title="Vendor reached protected data",
        severity=Severity.MEDIUM,
        rationale="Vendors sign no data-security agreement.",
        references=("Acme DSA s.4.2",),
    )
    # The finding is high (raised by policy); the rule's default stays medium.
    log = json.loads(SarifReporter().render(_result((_finding(info.id, Severity.HIGH),), (info,))))
    jsonschema.validate(log, SCHEMA)
    (descriptor,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert descriptor["id"] == "acme.vendor-access"
    assert descriptor["shortDescription"]["text"] == "Vendor reached protected data"
    assert descriptor["fullDescription"]["text"] == "Vendors sign no data-security agreement."
    assert "- Acme DSA s.4.2" in descriptor["help"]["text"]
    assert descriptor["defaultConfiguration"]["level"] == "warning"
    assert log["runs"][0]["results"][0]["level"] == "error"


def test_a_rule_the_result_does_not_describe_is_named_by_its_id() -> None:
    log = json.loads(
        SarifReporter().render(_result((_finding("residency.unknown", Severity.LOW),), ()))
    )
    (descriptor,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert descriptor["shortDescription"]["text"] == "residency.unknown"
    assert descriptor["defaultConfiguration"]["level"] == "note"


def test_a_scan_carries_the_metadata_of_every_rule_that_ran() -> None:
    case = CASES / "clean"
    result = api.scan(
        policy=case / "policy.yaml", inventory=sorted(case.glob("inventory.*")), out=None
    )
    registered = list(api.plugins().rules)
    assert [r.id for r in result.rules] == [r.id for r in registered]
    for info, rule in zip(result.rules, registered, strict=True):
        assert (info.title, info.severity, info.rationale, info.references) == (
            rule.title,
            rule.severity,
            rule.rationale,
            tuple(rule.references),
        )


def test_a_scan_without_coverage_rules_carries_only_the_rules_that_ran() -> None:
    case = CASES / "clean"
    result = api.scan(
        policy=case / "policy.yaml",
        inventory=sorted(case.glob("inventory.*")),
        out=None,
        coverage=False,
    )
    registered = [r.id for r in api.plugins().rules]
    assert any(rule.startswith("coverage.") for rule in registered)
    assert [r.id for r in result.rules] == [r for r in registered if not r.startswith("coverage.")]
