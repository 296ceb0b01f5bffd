"""plan-check: Terraform plans to planned stores, the residency scan, SARIF 2.1.0 output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from borderwatch.collect.exports.terraform import parse_plan, read_plan
from borderwatch.commands.plancheck import plan_check
from borderwatch.inventory.locations import LocationRegistry

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "checkov-tfplans"
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
PLANS = REAL / "tests" / "terraform"


def make_plan(region: str, classes: str = "us_user_data") -> dict[str, Any]:
    """A `terraform show -json` plan creating one tagged S3 bucket in `region`."""
    values = {
        "bucket": "acme-user-media",
        "force_destroy": False,
        "tags": {"borderwatch:data-classes": classes, "team": "media"},
    }
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket.user_media",
                        "mode": "managed",
                        "type": "aws_s3_bucket",
                        "name": "user_media",
                        "provider_name": "registry.terraform.io/hashicorp/aws",
                        "schema_version": 0,
                        "values": values,
                        "sensitive_values": {"tags": {}},
                    }
                ]
            }
        },
        "resource_changes": [
            {
                "address": "aws_s3_bucket.user_media",
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "user_media",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": {"arn": True, "id": True, "region": True},
                },
            }
        ],
        "configuration": {
            "provider_config": {
                "aws": {
                    "name": "aws",
                    "full_name": "registry.terraform.io/hashicorp/aws",
                    "expressions": {"region": {"constant_value": region}},
                }
            },
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket.user_media",
                        "mode": "managed",
                        "type": "aws_s3_bucket",
                        "name": "user_media",
                        "provider_config_key": "aws",
                        "expressions": {"bucket": {"constant_value": "acme-user-media"}},
                        "schema_version": 0,
                    }
                ]
            },
        },
    }


def run_check(tmp_path: Path, plan: dict[str, Any] | str, *extra: str) -> tuple[int, str, Path]:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan if isinstance(plan, str) else json.dumps(plan), encoding="utf-8")
    sarif = tmp_path / "out" / "findings.sarif"
    result = CliRunner().invoke(
        plan_check,
        [str(plan_file), "--policy", "us-protected-data", "--sarif", str(sarif), *extra],
    )
    return result.exit_code, result.output, sarif


def validate_sarif(path: Path) -> dict[str, Any]:
    log = json.loads(path.read_text(encoding="utf-8"))
    # The official OASIS schema declares draft-04; it also validates under Draft 7.
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(log)
    jsonschema.Draft7Validator(SCHEMA).validate(log)
    return log


def test_bucket_in_singapore_fails_with_sarif_naming_the_address(tmp_path: Path) -> None:
    code, output, sarif = run_check(tmp_path, make_plan("ap-southeast-1"))
    assert code == 1, output
    assert "aws_s3_bucket.user_media" in output
    assert "residency.store-outside-approved" in output
    log = validate_sarif(sarif)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "borderwatch"
    [result] = run["results"]
    assert result["ruleId"] == "residency.store-outside-approved"
    assert result["level"] == "error"
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("plan.json")
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "aws_s3_bucket.user_media"
    assert result["partialFingerprints"]["borderwatchFindingId/v1"].startswith("BW-")
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["id"] == result["ruleId"]
    assert float(rule["properties"]["security-severity"]) >= 7.0
    assert "SG" in result["message"]["text"]


def test_bucket_in_us_east_1_passes_with_empty_sarif(tmp_path: Path) -> None:
    code, output, sarif = run_check(tmp_path, make_plan("us-east-1"))
    assert code == 0, output
    log = validate_sarif(sarif)
    assert log["runs"][0]["results"] == []


def test_replica_bucket_in_other_region_is_a_copy_finding(tmp_path: Path) -> None:
    plan = make_plan("us-east-1")
    replica = {
        "address": "aws_s3_bucket.replica",
        "mode": "managed",
        "type": "aws_s3_bucket",
        "name": "replica",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "values": {"bucket": "acme-user-media-dr"},
    }
    replication = {
        "address": "aws_s3_bucket_replication_configuration.media",
        "mode": "managed",
        "type": "aws_s3_bucket_replication_configuration",
        "name": "media",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "values": {
            "bucket": "acme-user-media",
            "rule": [{"destination": [{"bucket": "arn:aws:s3:::acme-user-media-dr"}]}],
        },
    }
    plan["planned_values"]["root_module"]["resources"] += [replica, replication]
    config = plan["configuration"]
    config["provider_config"]["aws.dr"] = {
        "name": "aws",
        "alias": "dr",
        "expressions": {"region": {"constant_value": "eu-west-1"}},
    }
    config["root_module"]["resources"] += [
        {
            "address": "aws_s3_bucket.replica",
            "type": "aws_s3_bucket",
            "name": "replica",
            "mode": "managed",
            "provider_config_key": "aws.dr",
            "expressions": {},
        },
        {
            "address": "aws_s3_bucket_replication_configuration.media",
            "mode": "managed",
            "type": "aws_s3_bucket_replication_configuration",
            "name": "media",
            "provider_config_key": "aws",
            "expressions": {
                "bucket": {
                    "references": ["aws_s3_bucket.user_media.id", "aws_s3_bucket.user_media"]
                },
                "rule": [
                    {
                        "destination": [
                            {
                                "bucket": {
                                    "references": [
                                        "aws_s3_bucket.replica.arn",
                                        "aws_s3_bucket.replica",
                                    ]
                                }
                            }
                        ]
                    }
                ],
            },
        },
    ]
    parsed = parse_plan(plan)
    stores = {s.store_id: s for s in parsed.stores}
    assert stores["aws_s3_bucket.replica"].copy_of == "aws_s3_bucket.user_media"
    assert stores["aws_s3_bucket.replica"].region == "eu-west-1"
    code, output, sarif = run_check(tmp_path, plan)
    assert code == 1, output
    log = validate_sarif(sarif)
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "residency.copy-outside-approved"
    fqn = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    assert fqn == "aws_s3_bucket.replica"


def test_classes_map_applies_to_untagged_resources(tmp_path: Path) -> None:
    mapping = tmp_path / "classes.yaml"
    mapping.write_text("- match: 'aws_s3_bucket.user_*'\n  data_classes: [us_user_data]\n")
    plan = make_plan("ap-southeast-1", classes="")
    code, output, _ = run_check(tmp_path, plan)
    assert code == 0, output
    code, output, _ = run_check(tmp_path, plan, "--classes-map", str(mapping))
    assert code == 1, output


def test_unreadable_plan_exits_2_naming_the_path(tmp_path: Path) -> None:
    code, output, _ = run_check(tmp_path, "{not json")
    assert code == 2
    assert "plan.json" in output
    missing = CliRunner().invoke(
        plan_check, [str(tmp_path / "nope.json"), "--policy", "us-protected-data"]
    )
    assert missing.exit_code == 2
    assert "nope.json" in missing.output


@pytest.mark.parametrize(
    "relative",
    [
        "parser/resources/plan_encodings/tfplan_win_utf16.json",
        "parser/resources/plan_encodings/tfplan_win_utf8.json",
        "parser/resources/plan_encodings/tfplan_mac_utf8.json",
        "parser/resources/plan_booleans/tfplan.json",
        "graph/resources/modules_edges_tfplan/tfplan.json",
        "runner/resources/plan/tfplan.json",
        "runner/resources/plan/corrupted-tfplan.json",
        "runner/resources/plan_with_resource_reference/tfplan_extra_ref.json",
    ],
)
def test_every_real_checkov_plan_parses(relative: str) -> None:
    path = PLANS / relative
    assert path.is_file(), f"missing real data {path}"
    parsed = read_plan(path)
    assert parsed.format_version
    registry = LocationRegistry.load_builtin()
    for resource in parsed.resources:
        if resource.region:
            assert registry.resolve(resource.provider, resource.region).kind != "unknown", resource


def test_real_plans_resolve_to_expected_countries() -> None:
    registry = LocationRegistry.load_builtin()

    def countries(relative: str) -> set[tuple[str, ...]]:
        parsed = read_plan(PLANS / relative)
        return {
            registry.resolve(r.provider, r.region).countries for r in parsed.resources if r.region
        }

    utf16 = read_plan(PLANS / "parser/resources/plan_encodings/tfplan_win_utf16.json")
    assert [s.store_id for s in utf16.stores] == ["aws_s3_bucket.data"]
    assert utf16.stores[0].region == ""  # the provider block sets no region: unknown
    crlf = read_plan(PLANS / "parser/resources/plan_encodings/tfplan_win_utf8.json")
    assert [(s.store_id, s.region) for s in crlf.stores] == [("aws_s3_bucket.data", "us-west-2")]
    aws = read_plan(PLANS / "runner/resources/plan/tfplan.json")
    assert {s.region for s in aws.stores} <= {"us-west-2", "us-west-2a"}
    assert {"aws_s3_bucket.financials", "aws_db_instance.default"} <= {
        s.store_id for s in aws.stores
    }
    snapshot = next(s for s in aws.stores if s.store_id == "aws_ebs_snapshot.example_snapshot")
    assert snapshot.copy_of == "aws_ebs_volume.web_host_storage"
    assert countries("runner/resources/plan/tfplan.json") == {("US",)}
    assert countries("runner/resources/plan_with_resource_reference/tfplan_extra_ref.json") == {
        ("CA",)
    }
    google = read_plan(PLANS / "parser/resources/plan_booleans/tfplan.json")
    by_address = {r.address: r for r in google.resources}
    account = by_address["google_service_account.default"]
    assert account.region == "europe-west2"
    assert registry.resolve("gcp", account.region).countries == ("GB",)
    modules = read_plan(PLANS / "graph/resources/modules_edges_tfplan/tfplan.json")
    assert {s.region for s in modules.stores} == {"eu-central-1"}
    empty = read_plan(PLANS / "runner/resources/plan/corrupted-tfplan.json")
    assert empty.stores == [] and empty.notes


def test_real_plan_checks_clean_without_data_classes(tmp_path: Path) -> None:
    plan = PLANS / "parser/resources/plan_encodings/tfplan_win_utf16.json"
    sarif = tmp_path / "x.sarif"
    result = CliRunner().invoke(
        plan_check, [str(plan), "--policy", "us-protected-data", "--sarif", str(sarif)]
    )
    assert result.exit_code == 0, result.output
    validate_sarif(sarif)
