"""One scan over every real access-log sample at once: every file read by the right reader,
exactly the broken records quarantined, and caller countries from each format's own field.
"""

from __future__ import annotations

import json
from pathlib import Path

import iptocc
from click.testing import CliRunner

from borderwatch.cli import main

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PANTHER = REAL / "panther-analysis" / "rule-test-logs"
MAPPING = Path(__file__).parent / "mappings" / "honeybucket.yaml"

# file -> (reader, records read, accepted). The quarantined rest are records without a
# usable time or of another shape; each reader's own tests derive these counts
# independently from the files.
EXPECTED = {
    "AWS.CloudTrail.jsonl": ("cloudtrail", 476, 446),
    "scenario_AWS.CloudTrail.jsonl": ("cloudtrail", 27, 27),
    "GCP.AuditLog.jsonl": ("gcp-audit", 206, 147),
    "Azure.MonitorActivity.jsonl": ("azure-activity", 249, 216),
    "Azure.Audit.jsonl": ("entra", 48, 48),
    "Microsoft365.Audit.AzureActiveDirectory.jsonl": ("entra", 4, 4),
    "Okta.SystemLog.jsonl": ("okta", 88, 73),
    "scenario_Okta.SystemLog.jsonl": ("okta", 20, 20),
    "Amazon.EKS.Audit.jsonl": ("k8s-audit", 188, 17),
    "GitHub.Audit.jsonl": ("github-audit", 107, 72),
    "GSuite.ActivityEvent.jsonl": ("gworkspace", 165, 94),
    "AWS.S3ServerAccess.jsonl": ("s3-access", 16, 11),
    "scenario_AWS.S3ServerAccess.jsonl": ("s3-access", 3, 3),
    "ec2_proxy_s3_exfiltration_2020-09-14011940.json": ("cloudtrail", 103, 103),
    "AWS_S3_HoneyBucketLogs.csv": ("otrf-honeybucket-csv", 301, 301),
    "SerializerTestFileBadJsonFormat.json": ("cloudtrail", 1, 0),
    "aws.execution.ec2-user-data.json": ("cloudtrail", 3, 2),  # record 2 damaged (missing comma)
}

# A resource each format's sample touches, and the caller it logs in its own IP field.
TOUCHED = {
    "cloudtrail": ("critical-data-bucket", "1.2.3.4"),
    "azure-activity": ("mystorageaccount", "1.1.1.1"),
    "gcp-audit": ("projects/test-project-123456/sinks/test-1", "12.12.12.12"),
    "github-audit": ("acme-inc/a-repo", "5.6.7.8"),
    "k8s-audit": ("test-pod", "8.8.8.8"),
    "okta": ("Okta Admin Console", "1.3.2.4"),
    "gworkspace": ("Document Title- Found Here", "12.12.12.12"),
}

# Every established country is outside the (empty) allow-list, so each access with a
# caller country becomes a finding that names it.
POLICY = """\
borderwatch: policy/v1
name: all-real-samples
version: "1"
data_classes:
  watched:
    storage:
      approved: [{country: US}]
    access:
      allowed_countries: []
"""


def test_scan_of_all_real_samples(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    rows = "\n".join(
        f'"{resource}",aws,us-east-1,s3,watched,1,' for resource, _ in TOUCHED.values()
    )
    (tmp_path / "stores.csv").write_text(
        "store_id,provider,region,service,data_classes,records,copy_of\n" + rows + "\n"
    )
    inputs = [PANTHER / name for name in EXPECTED if (PANTHER / name).exists()]
    inputs += [
        REAL / "otrf-security-datasets" / "ec2_proxy_s3_exfiltration_2020-09-14011940.json",
        REAL / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv",
        REAL / "aws-cloudtrail-processing-library" / "src" / "test" / "resources" / "resources",
        REAL / "zmallen-cloudtrail2sightings",
        REAL / "cloud-custodian" / "tools" / "c7n_gcp" / "tests" / "data" / "events",
    ]
    out = tmp_path / "out"
    args = ["scan", "--policy", str(tmp_path / "policy.yaml")]
    args += ["--inventory", str(tmp_path / "stores.csv"), "--mapping", str(MAPPING)]
    args += ["--out", str(out), "--quiet"]
    for path in inputs:
        args += ["--events", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output

    summary = json.loads((out / "summary.json").read_text())
    by_name = {Path(i["path"]).name: i for i in summary["inputs"] if i["kind"] == "events"}
    for name, (reader, read, accepted) in EXPECTED.items():
        item = by_name[name]
        assert (item["format"], item["records_read"], item["accepted"]) == (
            reader,
            read,
            accepted,
        ), name
    for item in summary["inputs"]:
        assert item["records_read"] == item["accepted"] + item["quarantined"], item
    # Per-format counts are reported, and no log file went unread for want of a reader
    # (the only files no reader takes are a Security Command Center finding and an SNS
    # envelope whose Message key is misspelt, which is no delivery notification by its
    # structure; the well-formed SNS notification is skipped with a note).
    formats = summary["events_by_format"]
    assert {"cloudtrail", "gcp-audit", "okta", "s3-access", "otrf-honeybucket-csv"} <= set(formats)
    unread = [i for i in summary["inputs"] if i["format"] == "unrecognised"]
    assert sorted(Path(i["path"]).name for i in unread) == [
        "SQSMessageBodyWrongFormat",
        "network-finding.json",
    ]
    quarantine = (out / "quarantine.jsonl").read_text().splitlines()
    assert len(quarantine) == summary["totals"]["quarantined"]

    findings = json.loads((out / "findings.json").read_text())
    found = {(f["resource"], f["country"]) for f in findings}
    for reader, (resource, caller) in TOUCHED.items():
        country = iptocc.country_code(caller)
        assert country, caller
        assert (resource, country) in found, (reader, resource, caller, country)
