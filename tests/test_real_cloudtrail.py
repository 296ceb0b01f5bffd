"""A whole scan over every real CloudTrail sample at once: nothing crashes, nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from borderwatch.cli import main

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SAMPLES = [
    REAL / "aws-cloudtrail-processing-library" / "src" / "test" / "resources" / "resources",
    REAL / "zmallen-cloudtrail2sightings",
    REAL / "otrf-security-datasets" / "ec2_proxy_s3_exfiltration_2020-09-14011940.json",
    REAL / "cloud-custodian" / "tests" / "data" / "cwe",
    REAL / "panther-analysis" / "rule-test-logs" / "AWS.CloudTrail.jsonl",
    REAL / "panther-analysis" / "rule-test-logs" / "scenario_AWS.CloudTrail.jsonl",
]

POLICY = """\
borderwatch: policy/v1
name: real-samples
version: "1"
data_classes:
  us_user_data:
    storage:
      approved:
        - country: US
    access:
      prohibited_countries: [AU, JP]
"""

INVENTORY = """\
store_id,provider,region,service,data_classes,records,copy_of
critical-data-bucket,aws,us-east-1,s3,us_user_data,100,
example-bucket,aws,us-east-1,s3,us_user_data,100,
mordors3stack-s3bucket-llp2yingx64a,aws,us-east-1,s3,us_user_data,100,
"""


def test_scan_of_every_real_sample_accounts_for_every_record(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "stores.csv").write_text(INVENTORY)
    out = tmp_path / "out"
    args = ["scan", "--policy", str(tmp_path / "policy.yaml")]
    args += ["--inventory", str(tmp_path / "stores.csv"), "--out", str(out), "--quiet"]
    for sample in SAMPLES:
        args += ["--events", str(sample)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # findings, not a crash and not bad usage

    summary = json.loads((out / "summary.json").read_text())
    inputs = {Path(i["path"]).name: i for i in summary["inputs"]}
    for item in summary["inputs"]:
        assert item["records_read"] == item["accepted"] + item["quarantined"], item
    quarantine = [json.loads(line) for line in (out / "quarantine.jsonl").read_text().splitlines()]
    assert len(quarantine) == summary["totals"]["quarantined"]

    # Independently known counts of the files.
    assert inputs["AWS.CloudTrail.jsonl"]["records_read"] == 476
    assert inputs["ec2_proxy_s3_exfiltration_2020-09-14011940.json"]["accepted"] == 103
    assert inputs["SerializerTestFileBadJsonFormat.json"]["quarantined"] == 1
    damaged = inputs["aws.execution.ec2-user-data.json"]  # a comma missing upstream
    assert (damaged["accepted"], damaged["quarantined"]) == (2, 1)  # 3 records, 1 damaged
    assert inputs["SQSMessageBody"]["note"].startswith("skipped")
    # Files that are not CloudTrail at all (an EC2 state-change event) are quarantined whole.
    assert inputs["event-instance-state.json"]["format"] == "unrecognised"

    findings = json.loads((out / "findings.json").read_text())
    prohibited = {
        (f["resource"], f["country"])
        for f in findings
        if f["rule"] == "access.prohibited-jurisdiction"
    }
    # Caller 1.2.3.4 is registered in Australia, 111.111.111.111 in Japan.
    assert ("critical-data-bucket", "AU") in prohibited
    assert ("mordors3stack-s3bucket-llp2yingx64a", "AU") in prohibited
    assert ("example-bucket", "JP") in prohibited
    unknown = {f["resource"] for f in findings if f["rule"] == "access.unknown-location"}
    # 10.0.0.1 and 192.0.2.0 say nothing about where a person is.
    assert "example-bucket" in unknown
    html = (out / "report.html").read_text()
    assert "critical-data-bucket" in html
