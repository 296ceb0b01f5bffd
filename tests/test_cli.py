"""The command line as a user meets it: exit codes, messages, listings."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from borderwatch.cli import main

CASES = Path(__file__).parent / "cases"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

THREE_MISTAKES = """\
borderwatch: policy/v1
name: broken
version: "1"
data_classes:
  us_user_data:
    descripton: US users
    storage:
      approved:
        - country: US
    access:
      prohibited_countries: [CN, XX]
exceptions:
  - id: EXC-1
    person: someone
    approver: CISO
    ticket: T-1
    expires: 2026-02-30
"""


def test_validate_prints_every_mistake_with_its_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(THREE_MISTAKES, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(policy)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith(str(policy))]
    assert len(lines) == 3, result.output
    assert any(f"{policy}:6:" in line and "descripton" in line for line in lines), lines
    assert any(f"{policy}:11:" in line and "XX" in line for line in lines), lines
    assert any(f"{policy}:17:" in line and "expires" in line for line in lines), lines


def test_validate_accepts_a_good_policy_and_a_pack() -> None:
    runner = CliRunner()
    good = str(CASES / "exceptions" / "policy.yaml")
    assert runner.invoke(main, ["validate", good]).exit_code == 0
    assert runner.invoke(main, ["validate", "us-protected-data"]).exit_code == 0


def test_scan_refuses_an_invalid_policy_with_exit_2(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(THREE_MISTAKES, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["scan", "--policy", str(policy), "--out", str(tmp_path / "out"), "--quiet"]
    )
    assert result.exit_code == 2
    assert "descripton" in result.output
    assert not (tmp_path / "out" / "findings.json").exists()


def test_scan_with_a_missing_input_exits_2_and_names_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--policy",
            "us-protected-data",
            "--events",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ],
    )
    assert result.exit_code == 2
    assert "nope" in result.output


def test_scan_with_a_builtin_pack(tmp_path: Path) -> None:
    folder = CASES / "access-jurisdiction"
    out = tmp_path / "out"
    # The pack knows only us_user_data: the case's 'metrics' store (a class of the case's
    # own policy) would be refused as an unknown class, so it is left out here.
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "".join(
            line
            for line in (folder / "inventory.csv").read_text().splitlines(keepends=True)
            if not line.startswith("metrics,")
        )
    )
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--policy",
            "us-protected-data",
            "--inventory",
            str(inventory),
            "--identities",
            str(folder / "identities.csv"),
            "--events",
            str(folder / "events"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["policy"]["name"] == "us-protected-data"
    assert summary["findings_by_rule"]["access.prohibited-jurisdiction"] == 4


def test_fail_on_decides_the_exit_code(tmp_path: Path) -> None:
    folder = CASES / "residency-locations"
    args = [
        "scan",
        "--policy",
        str(folder / "policy.yaml"),
        "--inventory",
        str(folder / "inventory.csv"),
        "--out",
        str(tmp_path / "o"),
        "--quiet",
    ]
    assert CliRunner().invoke(main, [*args, "--fail-on", "high"]).exit_code == 1
    assert CliRunner().invoke(main, [*args, "--fail-on", "critical"]).exit_code == 0


def test_rules_lists_every_rule_with_severity() -> None:
    result = CliRunner().invoke(main, ["rules"], terminal_width=200)
    assert result.exit_code == 0
    for rule_id in (
        "residency.store-outside-approved",
        "residency.copy-outside-approved",
        "residency.location-unknown",
        "access.prohibited-jurisdiction",
        "access.unknown-location",
    ):
        assert rule_id in result.output
    assert "critical" in result.output


def test_packs_lists_the_builtin_packs() -> None:
    result = CliRunner().invoke(main, ["packs"], terminal_width=200)
    assert result.exit_code == 0
    assert "us-protected-data" in result.output


def test_strict_turns_any_quarantine_into_exit_2(tmp_path: Path) -> None:
    folder = CASES / "clean"
    trail = tmp_path / "trail.jsonl"
    good = (
        '{"eventID": "a", "eventTime": "2026-01-01T00:00:00Z", "eventName": "GetObject", '
        '"eventSource": "s3.amazonaws.com"}'
    )
    trail.write_text(good + "\n{not json\n")  # the second line is quarantined
    args = ["scan", "--policy", str(folder / "policy.yaml"), "--events", str(trail)]
    args += ["--out", str(tmp_path / "o"), "--quiet"]
    relaxed = CliRunner().invoke(main, args)
    # No inventory, so nothing protected: INCOMPLETE (coverage.nothing-judged, high).
    assert relaxed.exit_code == 1, relaxed.output
    assert "INCOMPLETE" in relaxed.output
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 2
    assert "1 record(s) quarantined" in strict.output
    assert (tmp_path / "o" / "quarantine.jsonl").read_text().count("\n") == 1


def test_module_commands_are_wired_into_the_main_cli() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "plan-check" in result.output
    commands = (
        ["plan-check"],
        ["inventory", "collect", "aws"],
        ["inventory", "import"],
        ["geo", "lookup"],
        ["geo", "build"],
    )
    for command in commands:
        assert CliRunner().invoke(main, [*command, "--help"]).exit_code == 0, command


def test_scan_reads_a_generic_log_through_a_mapping_file(tmp_path: Path) -> None:
    honeybucket = REAL / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv"
    mapping = Path(__file__).parent / "mappings" / "honeybucket.yaml"
    out = tmp_path / "o"
    args = ["scan", "--policy", "us-protected-data", "--events", str(honeybucket)]
    args += [
        "--mapping",
        str(mapping),
        "--format",
        "otrf-honeybucket-csv",
        "--out",
        str(out),
        "--quiet",
    ]
    result = CliRunner().invoke(main, args)
    # No inventory, so nothing protected: read, but INCOMPLETE (coverage.nothing-judged).
    assert result.exit_code == 1, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == "incomplete"
    (item,) = summary["inputs"]
    assert (item["format"], item["records_read"], item["accepted"]) == (
        "otrf-honeybucket-csv",
        301,
        301,
    )
    twice = [*args, "--mapping", str(mapping)]
    taken = CliRunner().invoke(main, twice)
    assert taken.exit_code == 2 and "already taken" in taken.output
