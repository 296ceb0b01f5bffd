"""With `scan --history`, the per-finding outputs say where each finding stands.

findings.csv, OCSF, SARIF, OSCAL and JUnit are imported one finding at a time by ticket
systems, SIEMs and CI; each must tell a new finding from one already open, a reopened
one, and close what was resolved (report/history_marks.py). Three runs of a history:

    run 1: A, B, D      run 2: B, F      run 3: B, D, E

so in run 3, B is open, D reopened, E new and F resolved. Each output is validated by
its format's own checker as in tests/test_outputs.py.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from trestle.oscal.assessment_results import AssessmentResults

from borderwatch import api
from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.model.scan import ScanResult

DATA = Path(__file__).parent / "data"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
EVERY_OUTPUT = ["json", "sarif", "html", "csv", "ocsf", "oscal", "junit"]
DAYS = [dt.date(2026, 3, 1), dt.date(2026, 3, 8), dt.date(2026, 3, 15)]
RUNS = [["A", "B", "D"], ["B", "F"], ["B", "D", "E"]]


def _finding(name: str) -> Finding:
    # A is an access finding (OCSF Detection), the rest residency (OCSF Compliance).
    rule = "access.prohibited-jurisdiction" if name in "AE" else "residency.unapproved-region"
    return Finding(
        id=finding_id(rule, name),
        rule=rule,
        severity=Severity.CRITICAL,
        status=Status.OPEN,
        title=f"Finding {name}",
        message=f"{name} is wrong",
        resource=f"store-{name}",
        principal=f"arn:aws:iam::1:user/{name}" if rule.startswith("access.") else None,
        country="CN",
        first_seen="2026-02-27T10:00:00Z",
        last_seen="2026-02-27T11:00:00Z",
    )


@pytest.fixture(scope="module")
def third_run(tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    from test_history import _run  # one run as the pipeline and api do it

    folder = tmp_path_factory.mktemp("history")
    results = [
        _run(folder, [_finding(name) for name in names], day)
        for names, day in zip(RUNS, DAYS, strict=True)
    ]
    return results[-1]


@pytest.fixture(scope="module")
def files(third_run: ScanResult) -> dict[str, bytes]:
    return dict(api.rendered_outputs(third_run, api.plugins(), EVERY_OUTPUT))


def _id(name: str) -> str:
    return _finding(name).id


EXPECTED = {"B": "open", "D": "reopened", "E": "new", "F": "resolved"}


def test_findings_csv_has_the_history_columns_and_the_resolved_row(
    files: dict[str, bytes],
) -> None:
    rows = list(csv.DictReader(io.StringIO(files["findings.csv"].decode("utf-8"), newline="")))
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {_id(name) for name in EXPECTED}
    for name, status in EXPECTED.items():
        assert by_id[_id(name)]["history_status"] == status, name
    assert by_id[_id("B")]["history_first_day"] == "2026-03-01"
    assert by_id[_id("B")]["history_age_days"] == "14"
    assert by_id[_id("E")]["history_first_day"] == "2026-03-15"
    resolved = by_id[_id("F")]
    assert resolved["status"] == "resolved"
    assert resolved["resource"] == "store-F"
    assert "2026-03-08" in resolved["message"]


def test_ocsf_updates_what_was_open_creates_what_is_new_and_closes_the_resolved(
    files: dict[str, bytes],
) -> None:
    events = json.loads(files["findings.ocsf.json"])
    by_id: dict[str, Any] = {}
    for event in events:
        model = DetectionFinding if event["class_uid"] == 2004 else ComplianceFinding
        parsed = model.model_validate(event)  # OCSF 1.5.0 allows each
        assert parsed.type_uid == parsed.class_uid * 100 + parsed.activity_id
        by_id[event["finding_info"]["uid"]] = event
    assert set(by_id) == {_id(name) for name in EXPECTED}
    seen = {
        name: (by_id[_id(name)]["activity_name"], by_id[_id(name)]["status"]) for name in EXPECTED
    }
    assert seen == {
        "B": ("Update", "In Progress"),
        "D": ("Update", "New"),
        "E": ("Create", "New"),
        "F": ("Close", "Resolved"),
    }
    assert "reopened" in by_id[_id("D")]["status_detail"]
    assert by_id[_id("F")]["compliance"]["status_id"] == 1  # Pass: it is gone
    assert by_id[_id("B")]["compliance"]["status_id"] == 3  # Fail: still there
    history = by_id[_id("B")]["unmapped"]["borderwatch"]["history"]
    assert (history["status"], history["first_run"], history["age_days"]) == ("open", 1, 14)


def test_sarif_marks_each_result_against_the_previous_run(files: dict[str, bytes]) -> None:
    log = json.loads(files["findings.sarif"])
    jsonschema.validate(log, SARIF_SCHEMA)
    states = {
        r["partialFingerprints"]["borderwatchFindingId/v1"]: r["baselineState"]
        for r in log["runs"][0]["results"]
    }
    assert states == {
        _id("B"): "unchanged",
        _id("D"): "new",
        _id("E"): "new",
        _id("F"): "absent",
    }


def test_oscal_says_each_findings_history_and_the_resolved_one_is_satisfied(
    files: dict[str, bytes],
) -> None:
    document = json.loads(files["assessment-results.oscal.json"])
    model = AssessmentResults.model_validate(document["assessment-results"])
    (scan,) = model.results
    by_id = {}
    for found in scan.findings:
        props = {p.name: p.value for p in found.props}
        by_id[props["finding-id"]] = (props, found.target.status.state.value)
    assert {k: v[0]["history-status"] for k, v in by_id.items()} == {
        _id(name): status for name, status in EXPECTED.items()
    }
    assert by_id[_id("F")][1] == "satisfied"
    assert by_id[_id("B")][1] == "not-satisfied"
    assert by_id[_id("B")][0]["first-found"] == "2026-03-01"


def test_junit_says_where_each_failing_finding_stands(files: dict[str, bytes]) -> None:
    xml = files["findings.junit.xml"].decode("utf-8")
    schema = xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))
    schema.validate(xml)
    assert "history: new, first found 2026-03-15 (run 3)" in xml
    assert "history: reopened, first found 2026-03-01 (run 1)" in xml
    assert "history: open, first found 2026-03-01 (run 1), 14 day(s) ago" in xml
    # A resolved finding fails nothing and is not listed as a failure.
    assert xml.count("<failure") == 3


def test_without_a_history_no_output_carries_history_marks(third_run: ScanResult) -> None:
    plain = dataclasses.replace(third_run, history=None)
    files = dict(api.rendered_outputs(plain, api.plugins(), EVERY_OUTPUT))
    rows = list(csv.DictReader(io.StringIO(files["findings.csv"].decode("utf-8"), newline="")))
    assert len(rows) == 3 and {row["history_status"] for row in rows} == {""}
    log = json.loads(files["findings.sarif"])
    assert all("baselineState" not in r for r in log["runs"][0]["results"])
    events = json.loads(files["findings.ocsf.json"])
    assert {e["activity_name"] for e in events} == {"Create"}
    assert all("history" not in e["unmapped"]["borderwatch"] for e in events)
    assert "history:" not in files["findings.junit.xml"].decode("utf-8")
