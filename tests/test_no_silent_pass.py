"""Nothing unjudged passes: inputs the policy cannot judge are errors or findings.

Each case is one a new user met (issue 14): a misspelt data class, a quarantined
protected row, an inventory without a region column, a country written as `UK`, a
policy region that does not exist, an output folder that cannot be written.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.errors import UsageError

POLICY = """\
borderwatch: policy/v1
name: strict
version: "1"
data_classes:
  us_user_data:
    storage:
      approved:
        - provider: aws
          country: US
    access:
      prohibited_countries: [dsp_countries_of_concern]
"""

# These scans judge residency alone: no logs are given on purpose, so the scan's
# coverage.nothing-judged finding is lowered below --fail-on (appended last, so the line
# numbers the tests expect in their policies stay put) and left out of the counts.
RESIDENCY_ONLY = "coverage:\n  nothing_judged: low\n"

# A protected store in Ireland and its copy in Frankfurt: two high findings.
INVENTORY_HEADER = "store_id,provider,region,service,data_classes,records,copy_of\n"
OUTSIDE = (
    INVENTORY_HEADER
    + "users-eu,aws,eu-west-1,s3,{cls},1000,\n"
    + "users-eu-copy,aws,eu-central-1,s3,,1000,users-eu\n"
    + "users-us,aws,us-east-1,s3,us_user_data,10,\n"
)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _scan(tmp_path: Path, *args: str, policy: str = POLICY) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--policy",
            str(_write(tmp_path, "policy.yaml", policy + RESIDENCY_ONLY)),
            *args,
            "--out",
            str(out),
            "--quiet",
        ],
    )
    return result.exit_code, result.output, out


def _rules_found(out: Path) -> dict[str, int]:
    """Findings per rule, without the coverage family (these scans have no logs)."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {
        rule: count
        for rule, count in summary["findings_by_rule"].items()
        if not rule.startswith("coverage.")
    }


# -- 1. a data class the policy does not define -----------------------------------------


def test_a_misspelt_class_is_an_input_error_with_line_and_suggestion(tmp_path: Path) -> None:
    inventory = _write(tmp_path, "stores.csv", OUTSIDE.format(cls="us_user_data"))
    code, output, out = _scan(tmp_path, "--inventory", str(inventory))
    assert code == 1, output
    assert _rules_found(out) == {
        "residency.copy-outside-approved": 1,
        "residency.store-outside-approved": 1,
    }
    (out / "summary.json").unlink()
    # One letter more, and today's main drops both findings and exits 0 with PASS.
    inventory.write_text(OUTSIDE.format(cls="us_users_data"), encoding="utf-8")
    code, output, out = _scan(tmp_path, "--inventory", str(inventory))
    assert code == 2, output
    assert f"{inventory}:2: data class 'us_users_data' is not defined by the policy" in output
    assert "did you mean 'us_user_data'?" in output
    assert "unprotected_classes" in output
    assert not (out / "summary.json").exists()


def test_a_class_declared_unprotected_is_accepted(tmp_path: Path) -> None:
    policy = POLICY + "unprotected_classes: [public_content]\n"
    inventory = _write(tmp_path, "stores.csv", OUTSIDE.format(cls="public_content"))
    code, output, out = _scan(tmp_path, "--inventory", str(inventory), policy=policy)
    assert code == 0, output
    assert _rules_found(out) == {}


def test_a_misspelling_repeated_on_many_rows_is_one_problem(tmp_path: Path) -> None:
    rows = "".join(f"users-{n},aws,us-east-1,s3,US_USER_DATA,1,\n" for n in range(500))
    inventory = _write(tmp_path, "stores.csv", INVENTORY_HEADER + rows)
    code, output, _ = _scan(tmp_path, "--inventory", str(inventory))
    assert code == 2, output
    assert output.count("is not defined by the policy") == 1
    assert f"{inventory}:2: data class 'US_USER_DATA' is not defined by the policy " in output
    assert "(also on 499 other rows)" in output
    assert "did you mean 'us_user_data'?" in output


def test_a_misspelt_class_in_a_yaml_inventory_names_its_line(tmp_path: Path) -> None:
    inventory = _write(
        tmp_path,
        "stores.yaml",
        "stores:\n"
        "  - store_id: a\n    provider: aws\n    region: us-east-1\n"
        "    data_classes: [us_user_data]\n"
        "  - store_id: b\n    provider: aws\n    region: us-east-1\n"
        "    data_classes: [us_user_dta]\n",
    )
    code, output, _ = _scan(tmp_path, "--inventory", str(inventory))
    assert code == 2, output
    assert f"{inventory}:6: data class 'us_user_dta'" in output


def test_unknown_classes_in_several_inventories_are_reported_together(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.csv", OUTSIDE.format(cls="us_users_data"))
    second = _write(tmp_path, "b.csv", OUTSIDE.format(cls="user_data").replace("users-", "b-"))
    code, output, _ = _scan(tmp_path, "--inventory", str(first), "--inventory", str(second))
    assert code == 2, output
    assert "2 data class names in the inputs are not in the policy" in output
    assert f"{first}:2: data class 'us_users_data'" in output
    assert f"{second}:2: data class 'user_data'" in output


def test_a_previous_inventory_is_checked_too(tmp_path: Path) -> None:
    current = _write(tmp_path, "stores.csv", OUTSIDE.format(cls="us_user_data"))
    earlier = _write(tmp_path, "stores-2026-01-01.csv", OUTSIDE.format(cls="us_usr_data"))
    code, output, _ = _scan(
        tmp_path, "--inventory", str(current), "--previous-inventory", str(earlier)
    )
    assert code == 2, output
    assert f"{earlier}:2: data class 'us_usr_data'" in output


def test_the_policy_checks_its_own_class_names(tmp_path: Path) -> None:
    policy = _write(
        tmp_path,
        "policy.yaml",
        POLICY
        + "unprotected_classes: [us_user_data, logs]\n"
        + "store_classes:\n  - match: 'users-*'\n    data_classes: [us_users_data]\n",
    )
    result = CliRunner().invoke(main, ["validate", str(policy)])
    assert result.exit_code == 2, result.output
    assert f"{policy}:12:" in result.output and "both defined" in result.output
    assert f"{policy}:15:" in result.output and "did you mean 'us_user_data'?" in result.output


# -- 2. a quarantined protected inventory row -------------------------------------------


def test_a_quarantined_protected_row_is_a_finding_not_a_drop(tmp_path: Path) -> None:
    inventory = _write(
        tmp_path,
        "stores.csv",
        INVENTORY_HEADER
        + "users-us,aws,us-east-1,s3,us_user_data,10,\n"
        + "users-sg,aws,ap-southeast-1,s3,us_user_data,notanumber,\n"
        + "videos,aws,eu-west-1,s3,,notanumber,\n",
    )
    code, output, out = _scan(tmp_path, "--inventory", str(inventory))
    assert code == 1, output
    assert _rules_found(out) == {"residency.store-unreadable": 1}
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    (finding,) = [f for f in findings if not f["rule"].startswith("coverage.")]
    assert finding["resource"] == "users-sg"
    assert finding["severity"] == "high"
    assert finding["data_classes"] == ["us_user_data"]
    assert finding["evidence"]["declared_at"] == f"{inventory}:3"
    assert "'records' must be a whole number" in finding["evidence"]["reason"]


def test_a_row_whose_classes_cannot_be_read_is_a_finding_on_its_line(tmp_path: Path) -> None:
    inventory = _write(
        tmp_path,
        "stores.csv",
        INVENTORY_HEADER
        + "users-us,aws,us-east-1,s3,us_user_data,10,\n"
        + "users-sg,aws,ap-southeast-1,s3,us_user_data,10,,extra,cells\n",
    )
    result = api.scan(policy=_write(tmp_path, "policy.yaml", POLICY), inventory=[inventory])
    (finding,) = [f for f in result.findings if not f.rule.startswith("coverage.")]
    assert finding.rule == "residency.store-unreadable"
    assert finding.resource == "stores.csv:3"
    assert finding.evidence["declared_at"] == f"{inventory}:3"
    assert "could not be read" in finding.message
    assert result.failing()


def test_store_classes_of_the_policy_make_a_quarantined_row_protected(tmp_path: Path) -> None:
    policy = POLICY + "store_classes:\n  - {match: 'users-*', data_classes: [us_user_data]}\n"
    inventory = _write(
        tmp_path, "stores.csv", INVENTORY_HEADER + "users-sg,aws,ap-southeast-1,s3,,-5,\n"
    )
    result = api.scan(policy=_write(tmp_path, "policy.yaml", policy), inventory=[inventory])
    judged = [f for f in result.findings if not f.rule.startswith("coverage.")]
    assert [f.rule for f in judged] == ["residency.store-unreadable"]
    assert "must not be negative" in judged[0].message


# -- 3. country codes in every input, checked as the policy checks them -----------------


def test_country_codes_in_every_input_are_checked_with_the_policys_hints(
    tmp_path: Path,
) -> None:
    inventory = _write(
        tmp_path,
        "stores.csv",
        INVENTORY_HEADER.replace("\n", ",country\n")
        + "users-us,aws,us-east-1,s3,us_user_data,10,,\n"
        + "dc-london,onprem,ldn-1,mysql,,10,,UK\n",
    )
    identities = _write(
        tmp_path,
        "people.csv",
        "principal,person,work_country,employer\nalice,alice,us,acme\nbob,bob,UK,acme\n",
    )
    entities = _write(
        tmp_path,
        "entities.csv",
        "entity_id,name,country,place_of_business,owners\n"
        "acme,Acme,US,US,country:USA=10\n"
        "beta,Beta,EL,GR,\n",
    )
    travel = _write(
        tmp_path,
        "travel.csv",
        "person,country,start,end\nalice,XX,2026-01-01,2026-01-05\n",
    )
    result = api.scan(
        policy=_write(tmp_path, "policy.yaml", POLICY),
        inventory=[inventory],
        identities=[identities],
        entities=[entities],
        travel=[travel],
    )
    reasons = {(q.input_path, q.position): q.reason for q in result.quarantined}
    assert set(reasons) == {
        (str(inventory), "line 3"),
        (str(identities), "line 3"),
        (str(entities), "line 2"),
        (str(entities), "line 3"),
        (str(travel), "line 2"),
    }
    assert "the ISO code of the United Kingdom is 'GB'" in reasons[(str(inventory), "line 3")]
    assert "'work_country' 'UK'" in reasons[(str(identities), "line 3")]
    assert "'GB'" in reasons[(str(identities), "line 3")]
    assert "'USA' is an alpha-3 code; write 'US'" in reasons[(str(entities), "line 2")]
    assert "the ISO code of Greece is 'GR'" in reasons[(str(entities), "line 3")]
    assert "'XX' is not an ISO 3166-1 alpha-2" in reasons[(str(travel), "line 2")]
    # A lower-case code is unambiguous and still read (alice, line 2, is kept).


# -- 4. required columns, per input kind, named in the message -------------------------


def test_an_inventory_without_a_region_column_is_refused_naming_it(tmp_path: Path) -> None:
    inventory = _write(
        tmp_path,
        "stores.csv",
        "store_id,provider,service,data_classes,records\n"
        + "".join(f"db-{n},azure,sql,us_user_data,10\n" for n in range(9)),
    )
    code, output, out = _scan(tmp_path, "--inventory", str(inventory))
    assert code == 2, output
    assert f"{inventory}:1:1: missing required column(s) for stores: region" in output
    assert "store_id, provider, region, data_classes" in output
    assert not (out / "findings.json").exists()


def test_an_inventory_without_data_classes_is_refused_and_a_typo_is_named(
    tmp_path: Path,
) -> None:
    inventory = _write(
        tmp_path,
        "stores.csv",
        "store_id,provider,region,data_class\nusers,aws,eu-west-1,us_user_data\n",
    )
    code, output, _ = _scan(tmp_path, "--inventory", str(inventory))
    assert code == 2, output
    assert "missing required column(s) for stores: data_classes" in output
    assert "is 'data_class' for 'data_classes' a typo?" in output


# -- 5. regions in the policy resolve in the location registry --------------------------


def test_validate_reports_an_unknown_region_with_suggestions(tmp_path: Path) -> None:
    policy = _write(
        tmp_path,
        "policy.yaml",
        POLICY.replace(
            "        - provider: aws\n          country: US\n",
            "        - provider: aws\n          region: us-east-99\n"
            "        - {provider: gcp, region: us-west1-b}\n"
            "        - {provider: azure, region: East US}\n"
            "        - {region: europe-wset1}\n"
            "        - {provider: onprem, region: va-dc2}\n",
        ),
    )
    result = CliRunner().invoke(main, ["validate", str(policy)])
    assert result.exit_code == 2, result.output
    problems = [line for line in result.output.splitlines() if line.startswith(str(policy))]
    assert len(problems) == 2, result.output
    assert problems[0].startswith(f"{policy}:9:19: aws region 'us-east-99' is not in the location")
    assert "did you mean 'us-east-2', 'us-east-1' or 'us-west-2'?" in problems[0]
    assert problems[1].startswith(f"{policy}:12:20: region 'europe-wset1' is not in the")
    assert "'europe-west1'" in problems[1]


def test_a_legacy_location_in_a_cloud_region_is_checked_too(tmp_path: Path) -> None:
    policy = _write(
        tmp_path,
        "policy.yaml",
        POLICY
        + "legacy_locations:\n"
        + "  - {name: old-dc, provider: onprem, region: sg-dc1, deadline: 2026-06-30}\n"
        + "  - {name: old-cloud, provider: aws, region: ap-southeast-9, deadline: 2026-06-30}\n",
    )
    result = CliRunner().invoke(main, ["validate", str(policy)])
    assert result.exit_code == 2, result.output
    assert f"{policy}:14:" in result.output
    assert "aws region 'ap-southeast-9' is not in the location registry" in result.output
    assert "sg-dc1" not in result.output


def test_a_scan_refuses_a_policy_with_an_unknown_region(tmp_path: Path) -> None:
    policy = POLICY.replace("          country: US\n", "          region: us-east-99\n")
    code, output, _ = _scan(tmp_path, policy=policy)
    assert code == 2, output
    assert "us-east-99" in output and "did you mean" in output


# -- 6. the output folder is checked before any input is read ---------------------------


def _scan_into(out: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["scan", *args, "--out", str(out), "--quiet"])
    return result.exit_code, result.output


def test_an_output_path_that_is_a_file_is_refused_before_reading_inputs(tmp_path: Path) -> None:
    out = _write(tmp_path, "report.txt", "keep me\n")
    # The policy does not exist either: the output folder is what is reported, first.
    code, output = _scan_into(out, "--policy", str(tmp_path / "missing.yaml"))
    assert code == 2, output
    assert f"the output folder {out} is a file" in output
    assert "missing.yaml" not in output
    assert out.read_text(encoding="utf-8") == "keep me\n"


def test_an_output_folder_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = _write(tmp_path, "blocker", "")
    inventory = _write(tmp_path, "stores.csv", OUTSIDE.format(cls="us_user_data"))
    code, output = _scan_into(
        blocker / "out" / "scan",
        "--policy",
        str(_write(tmp_path, "policy.yaml", POLICY)),
        "--inventory",
        str(inventory),
    )
    assert code == 2, output
    assert f"cannot be created: {blocker} is a file" in output


def test_the_api_checks_the_output_folder_too(tmp_path: Path) -> None:
    out = _write(tmp_path, "out", "")
    try:
        api.scan(policy=tmp_path / "missing.yaml", out=out)
    except UsageError as exc:
        assert "is a file" in str(exc)
    else:
        raise AssertionError("a file as the output folder was accepted")
