"""scan --outputs: every standard output of the demo validates against its schema or model.

The demo runs once (module fixture); its ScanResult is rendered in every format and each
file is checked with the format's own validator: SARIF with the OASIS JSON schema, OCSF
with py-ocsf-models' pydantic models (OCSF 1.5.0), OSCAL with compliance-trestle's
models, JUnit XML with the JUnit XSD Jenkins reads (tests/data/junit-10.xsd), CSV with
the csv module. Then the choice of outputs on the command line.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from click.testing import CliRunner
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from trestle.oscal.assessment_results import AssessmentResults

from borderwatch import api
from borderwatch.cli import main
from borderwatch.demo.run import run_demo
from borderwatch.model.findings import Status
from borderwatch.model.scan import ScanResult
from borderwatch.report.findings_csv import COLUMNS

DATA = Path(__file__).parent / "data"
CASES = Path(__file__).parent / "cases"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
EVERY_OUTPUT = ["json", "sarif", "html", "csv", "ocsf", "oscal", "junit"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScanResult, Path]]:
    """The demo's scan result, with the demo folder as scan root, and that folder."""
    root = tmp_path_factory.mktemp("demo")
    outcome = run_demo(root / "out", events=20000, now=dt.datetime(2026, 12, 6, 4, tzinfo=dt.UTC))
    assert not outcome.missing and not outcome.unexpected
    yield dataclasses.replace(outcome.result, scan_root=str(root)), root


@pytest.fixture(scope="module")
def rendered(demo: tuple[ScanResult, Path]) -> dict[str, bytes]:
    result, _ = demo
    return dict(api.rendered_outputs(result, api.plugins(), EVERY_OUTPUT))


def _inventory_line(root: Path, store: str) -> int:
    lines = (root / "out" / "inputs" / "inventory.csv").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(store + ","))


def test_every_output_is_written_when_asked(rendered: dict[str, bytes]) -> None:
    assert sorted(rendered) == sorted(
        [
            "findings.json",
            "summary.json",
            "quarantine.jsonl",
            "report.html",
            "findings.sarif",
            "residency.csv",
            "findings.csv",
            "findings.ocsf.json",
            "assessment-results.oscal.json",
            "findings.junit.xml",
        ]
    )


def test_findings_csv_of_the_demo(
    demo: tuple[ScanResult, Path], rendered: dict[str, bytes]
) -> None:
    result, root = demo
    data = rendered["findings.csv"]
    assert b"\r\n" in data and data.decode("utf-8")  # RFC 4180 line ends, UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert list(rows[0].keys()) == list(COLUMNS)
    assert [row["id"] for row in rows] == [f.id for f in result.findings]
    for row, finding in zip(rows, result.findings, strict=True):
        assert json.loads(row["evidence"]) == finding.evidence
        assert row["count"] == str(finding.count)
        if finding.rule.startswith("dsp."):
            continue  # about a DSP category and counterparty, not one store's line
        # The demo's oversight finding is about a model-store file, and a feed finding's
        # subject is a test or a day: neither is a row of the inventory.
        if finding.resource and not finding.rule.startswith(("integrity.", "feed.")):
            line = _inventory_line(root, finding.resource)
            assert row["location"] == f"out/inputs/inventory.csv:{line}", finding.rule
        if finding.status is Status.MUTED:
            assert row["exception_id"] == finding.exception.id  # type: ignore[union-attr]


def test_sarif_of_the_demo_points_at_lines_relative_to_the_scan_root(
    demo: tuple[ScanResult, Path], rendered: dict[str, bytes]
) -> None:
    result, root = demo
    log = json.loads(rendered["findings.sarif"])
    jsonschema.validate(log, SARIF_SCHEMA)
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root.as_uri() + "/"}}
    shown = [f for f in result.findings if f.status is not Status.RESOLVED]
    assert len(run["results"]) == len(shown)
    for item, finding in zip(run["results"], shown, strict=True):
        if finding.rule.startswith(("integrity.", "feed.")):
            continue  # a model-store file or a feed test: no row of the inventory
        physical = item["locations"][0]["physicalLocation"]
        if finding.rule.startswith("dsp."):
            # A DSP count is about a category and a counterparty, not one store's line.
            assert "region" not in physical and item["properties"]["locationKind"] == "scan"
            continue
        assert physical["artifactLocation"] == {
            "uri": "out/inputs/inventory.csv",
            "uriBaseId": "%SRCROOT%",
        }
        assert physical["region"]["startLine"] == _inventory_line(root, finding.resource or "")
        kind = "store-declaration" if finding.rule.startswith("access.") else "declaration"
        assert item["properties"]["locationKind"] == kind
        assert item["properties"]["principal"] == finding.principal


def test_ocsf_of_the_demo_validates_against_the_ocsf_models(
    demo: tuple[ScanResult, Path], rendered: dict[str, bytes]
) -> None:
    result, _ = demo
    events = json.loads(rendered["findings.ocsf.json"])
    assert len(events) == len(result.findings)
    severity_id = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
    for event, finding in zip(events, result.findings, strict=True):
        access = finding.rule.startswith("access.")
        model = DetectionFinding if access else ComplianceFinding
        parsed = model.model_validate(event)  # raises on anything OCSF 1.5.0 does not allow
        assert parsed.class_uid == (2004 if access else 2003)
        assert parsed.type_uid == parsed.class_uid * 100 + 1
        assert parsed.category_uid == 2
        assert parsed.metadata.version == "1.5.0"
        assert parsed.finding_info.uid == finding.id
        assert parsed.severity_id == severity_id[finding.severity.value]
        assert parsed.status_id == {"open": 1, "muted": 3, "resolved": 4}[finding.status.value]
        assert event["unmapped"]["borderwatch"]["evidence"] == finding.evidence
        if finding.resource:
            assert event["resources"][0]["uid"] == finding.resource
        if not access:
            assert event["compliance"]["control"] == finding.rule
            assert event["compliance"]["status_id"] == 3


def test_oscal_of_the_demo_validates_against_trestle(
    demo: tuple[ScanResult, Path], rendered: dict[str, bytes]
) -> None:
    result, _ = demo
    document = json.loads(rendered["assessment-results.oscal.json"])
    model = AssessmentResults.model_validate(document["assessment-results"])
    (scan,) = model.results
    selected = scan.reviewed_controls.control_selections[0]
    assert [c.control_id for c in selected.include_controls] == [r.id for r in result.rules]
    assert [f.title for f in scan.findings] == [f.title for f in result.findings]
    observations = {o.uuid for o in scan.observations}
    for oscal_finding, finding in zip(scan.findings, result.findings, strict=True):
        assert oscal_finding.target.target_id == finding.rule
        assert oscal_finding.target.status.state.value == "not-satisfied"
        assert oscal_finding.related_observations[0].observation_uuid in observations
        if finding.exception is not None:
            assert finding.exception.id in (oscal_finding.remarks or "")
    # The import-ap reference resolves to the policy in back-matter.
    href = model.import_ap.href
    (policy,) = model.back_matter.resources
    assert href == f"#{policy.uuid}"
    assert policy.props[0].value == result.policy_sha256
    # The same result renders to the same bytes (uuids derive from the scan).
    again = dict(api.rendered_outputs(result, api.plugins(), ["oscal"]))
    assert again["assessment-results.oscal.json"] == rendered["assessment-results.oscal.json"]


def test_junit_of_the_demo_validates_against_the_junit_xsd(
    demo: tuple[ScanResult, Path], rendered: dict[str, bytes]
) -> None:
    result, _ = demo
    schema = xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))
    xml = rendered["findings.junit.xml"]
    schema.validate(xml.decode("utf-8"))
    tree: Any = schema.to_dict(xml.decode("utf-8"))
    (suite,) = tree["testsuite"]
    cases = suite["testcase"]
    assert [case["@name"] for case in cases] == [r.id for r in result.rules]
    failures = sum(len(case.get("failure", [])) for case in cases)
    assert failures == len(result.failing()) == int(suite["@failures"]) > 0
    # The muted finding fails nothing, and is still said.
    (muted,) = [f for f in result.findings if f.status is Status.MUTED]
    case = next(c for c in cases if c["@name"] == muted.rule)
    assert any(muted.id in out for out in case.get("system-out", []))


def test_junit_says_incomplete_coverage_below_fail_on(tmp_path: Path) -> None:
    """A coverage gap below --fail-on does not fail the build, but is never a pass."""
    case = CASES / "coverage-gaps"
    result = api.scan(
        policy=case / "policy.yaml",
        inventory=[case / "inventory.csv"],
        identities=[case / "identities.csv"],
        events=[case / "events"],
        fail_on="critical",
        out=None,
    )
    gaps = result.coverage_gaps()
    assert gaps and not any(g.severity.value == "critical" for g in gaps)
    xml = dict(api.rendered_outputs(result, api.plugins(), ["junit"]))["findings.junit.xml"]
    schema = xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))
    schema.validate(xml.decode("utf-8"))
    tree: Any = schema.to_dict(xml.decode("utf-8"))
    cases = {c["@name"]: c for c in tree["testsuite"][0]["testcase"]}
    for rule in {g.rule for g in gaps}:
        (skipped,) = cases[rule]["skipped"]
        assert skipped["@message"].startswith("INCOMPLETE:")


def _scan_case(out: Path, *extra: str) -> Any:
    case = CASES / "access-jurisdiction"
    args = ["scan", "--policy", str(case / "policy.yaml"), "--inventory"]
    args += [str(case / "inventory.csv"), "--identities", str(case / "identities.csv")]
    args += ["--events", str(case / "events"), "--out", str(out), "--quiet", *extra]
    return CliRunner().invoke(main, args)


def test_an_unknown_output_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _scan_case(out, "--outputs", "json,pdf")
    assert result.exit_code == 2, result.output
    assert "unknown output 'pdf' in --outputs; known: json, html, sarif, csv" in result.output
    for name in EVERY_OUTPUT:
        assert name in result.output
    assert not out.exists()


def test_outputs_chooses_the_files_and_keeps_the_scans_record(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _scan_case(out, "--outputs", "csv, junit")
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "findings.csv",
        "findings.junit.xml",
        "quarantine.jsonl",
        "residency.csv",
        "summary.json",
    ]


def test_the_default_outputs_are_todays_set_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _scan_case(out)
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "findings.csv",
        "findings.json",
        "findings.sarif",
        "quarantine.jsonl",
        "report.html",
        "residency.csv",
        "summary.json",
    ]


def test_oscal_without_its_extra_is_refused_with_what_to_install(tmp_path: Path) -> None:
    """Without compliance-trestle (blocked from import in a fresh interpreter), asking for
    oscal exits 2 before reading anything and names the extra to install."""
    case = CASES / "access-jurisdiction"
    code = (
        "import sys\n"
        "sys.modules['trestle'] = None  # as if compliance-trestle were not installed\n"
        "from borderwatch.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    out = tmp_path / "out"
    args = ["scan", "--policy", str(case / "policy.yaml"), "--inventory"]
    args += [str(case / "inventory.csv"), "--out", str(out), "--outputs", "oscal"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'borderwatch[oscal]'" in done.stderr
    assert not out.exists()


def test_the_scan_root_is_the_folder_the_scan_ran_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES / "clean"
    monkeypatch.chdir(tmp_path)
    result = api.scan(policy=case / "policy.yaml", inventory=[case / "inventory.yaml"], out=None)
    assert result.scan_root == str(tmp_path)


def test_hostile_values_keep_every_output_valid() -> None:
    """Every value a log or inventory can set is an attack (markup, control characters,
    line breaks, a right-to-left override, outer blanks): each format still validates,
    and the values are carried as text."""
    from test_report_html import CONTROL, hostile_result

    base = hostile_result()
    # Evidence as a scan makes it (JSON values: rules build it in SQL), hostile text in it.
    evidence = json.loads(json.dumps(base.findings[0].evidence, default=str))
    spaced = dataclasses.replace(
        base.findings[0],
        title="  two\nlines  ",
        principal=" \t" + CONTROL,
        count=3,
        evidence=evidence,
    )
    result = dataclasses.replace(base, findings=(spaced, *base.findings[1:]))
    files = dict(api.rendered_outputs(result, api.plugins(), EVERY_OUTPUT))

    jsonschema.validate(json.loads(files["findings.sarif"]), SARIF_SCHEMA)
    xml = files["findings.junit.xml"].decode("utf-8")
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(xml)
    assert "\x1b" not in xml and "[U+001B]" in xml
    events = json.loads(files["findings.ocsf.json"])
    for event, finding in zip(events, result.findings, strict=True):
        model = DetectionFinding if event["class_uid"] == 2004 else ComplianceFinding
        parsed = model.model_validate(event)
        assert parsed.message == finding.message
        assert event["unmapped"]["borderwatch"]["principal"] == finding.principal
    document = json.loads(files["assessment-results.oscal.json"])
    model = AssessmentResults.model_validate(document["assessment-results"])
    (scan,) = model.results
    assert scan.findings[0].title == "two lines"
    assert [f.description for f in scan.findings] == [f.message for f in result.findings]
    rows = list(csv.reader(io.StringIO(files["findings.csv"].decode("utf-8"), newline="")))
    assert len(rows) == 1 + len(result.findings)


def test_paths_are_given_relative_to_the_scan_root_where_they_lie_below_it() -> None:
    from borderwatch.report import filelines

    assert filelines.relative_path("/work/repo/inv/a.csv", "/work/repo") == "inv/a.csv"
    assert filelines.relative_path("inv/../inv/a.csv", "/work/repo") == "inv/a.csv"
    assert filelines.relative_path("/elsewhere/a.csv", "/work/repo") is None
    assert filelines.relative_path("../a.csv", "/work/repo") is None
    assert filelines.split_origin("dir/inventory.csv:12") == ("dir/inventory.csv", 12)
    assert filelines.split_origin("inventory.csv") == ("inventory.csv", None)
    assert filelines.split_origin("plan.json#aws_s3_bucket.x") == (None, None)
    assert filelines.uri_reference("a b/%x.csv") == "a%20b/%25x.csv"


def test_a_scan_removes_the_outputs_of_formats_it_did_not_write(tmp_path: Path) -> None:
    """A folder scanned with the default outputs, then with --outputs csv: report.html,
    findings.json and findings.sarif of the first scan do not stay beside the second's
    files as if they were current."""
    out = tmp_path / "out"
    assert _scan_case(out).exit_code == 1
    assert (out / "report.html").exists() and (out / "findings.sarif").exists()
    first = (out / "summary.json").read_bytes()
    assert _scan_case(out, "--outputs", "csv").exit_code == 1
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "findings.csv",
        "quarantine.jsonl",
        "residency.csv",
        "summary.json",
    ]
    assert (out / "summary.json").read_bytes() != first  # the second scan's record


def test_with_a_ledger_the_outputs_of_an_earlier_run_stay_and_verify(tmp_path: Path) -> None:
    """With --ledger, a run with fewer formats removes no file of the earlier run: they
    are moved aside into superseded/ (none stays beside the new files as if current),
    the ledger names where, and verify checks them against the run that wrote them."""
    out, ledger = tmp_path / "out", tmp_path / "ledger"
    assert _scan_case(out, "--ledger", str(ledger)).exit_code == 1
    assert _scan_case(out, "--ledger", str(ledger), "--outputs", "csv").exit_code == 1
    assert not (out / "report.html").exists() and not (out / "findings.sarif").exists()
    (kept,) = (out / "superseded").iterdir()
    assert (kept / "report.html").exists() and (kept / "findings.sarif").exists()
    report = api.verify_ledger(ledger)
    assert report.breaks == [], report.breaks
    # Only inputs (read by both runs) are checked against the later record alone; every
    # earlier output is checked where it is kept.
    first = json.loads((ledger / "ledger.jsonl").read_bytes().splitlines()[0])
    assert report.superseded == len(first["inputs"])
