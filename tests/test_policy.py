"""Loading and validating policies: what loads, and every mistake at its line and column."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest

from borderwatch.errors import PolicyError, Problem
from borderwatch.policy import (
    builtin_packs,
    country_groups,
    iso_countries,
    load_policy,
    validate_policy,
)

POLICIES = Path(__file__).parent / "policies"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "policy.md"
RULES = {
    "access.prohibited-jurisdiction",
    "access.unknown-location",
    "residency.store-outside-approved",
}
DSP = ("CN", "CU", "HK", "IR", "KP", "MO", "RU", "VE")


def problems_of(name: str, known_rules: set[str] | None = None) -> list[Problem]:
    return validate_policy(POLICIES / name, known_rules=known_rules)


def where(problem: Problem) -> tuple[int | None, int | None]:
    return problem.location.line, problem.location.column


# -- what loads ------------------------------------------------------------------------


def test_valid_policy_loads_with_groups_expanded() -> None:
    path = POLICIES / "valid.yaml"
    policy = load_policy(path, known_rules=RULES)

    assert policy.name == "valid-example"
    assert policy.version == "2026.1"
    assert list(policy.data_classes) == ["us_user_data", "eu_customer_data", "public_content"]
    us = policy.data_classes["us_user_data"]
    assert us.name == "us_user_data"  # filled from the mapping key
    assert us.protected is True
    assert us.access.prohibited_countries == DSP
    assert [(a.provider, a.region, a.country) for a in us.storage.approved] == [
        (None, None, "US"),
        ("oci", None, "US"),
    ]
    # A group plus codes it already contains: one sorted, unique tuple.
    eu = policy.data_classes["eu_customer_data"]
    assert eu.access.prohibited_countries == ("CN", "CU", "IR", "KP", "RU")
    assert eu.storage.approved[0].region == "eu-central-1"
    assert policy.data_classes["public_content"].protected is False
    assert [p.name for p in policy.protected_classes()] == ["us_user_data", "eu_customer_data"]

    first, second = policy.exceptions
    assert first.id == "EXC-2026-001"
    assert first.rule == "access.prohibited-jurisdiction"
    assert (first.data_class, first.person, first.country) == ("us_user_data", "li.wei", "CN")
    assert first.expires == dt.date(2027, 3, 31)
    assert second.store == "legacy-*" and second.rule is None
    assert second.expires == dt.date(2026, 12, 31)  # a quoted date is accepted too

    assert policy.source == str(path)
    assert policy.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert validate_policy(path, known_rules=RULES) == []


@pytest.mark.parametrize("name", ["us-protected-data", "us-trusted-cloud"])
def test_builtin_pack_loads_by_name(name: str) -> None:
    policy = load_policy(name, known_rules=RULES)

    assert policy.name == name
    assert policy.source == f"builtin:{name}"
    assert len(policy.sha256) == 64
    assert "28 CFR 202" in policy.description
    assert [dc.name for dc in policy.protected_classes()] == ["us_user_data"]
    assert policy.data_classes["us_user_data"].access.prohibited_countries == DSP
    assert policy.exceptions == ()
    # The same pack by its source name, and with files turned off.
    assert load_policy(f"builtin:{name}") == policy
    assert load_policy(name, builtin_only=True) == policy


def test_builtin_packs_differ_in_where_data_may_live() -> None:
    plain = load_policy("us-protected-data").data_classes["us_user_data"].storage.approved
    trusted = load_policy("us-trusted-cloud").data_classes["us_user_data"].storage.approved
    assert [(a.provider, a.region, a.country) for a in plain] == [(None, None, "US")]
    assert [(a.provider, a.region, a.country) for a in trusted] == [("oci", None, "US")]
    assert "example to adapt" in load_policy("us-trusted-cloud").description.lower()


def test_builtin_packs_lists_each_pack_with_one_line() -> None:
    packs = builtin_packs()
    assert sorted(packs) == ["dsp", "us-protected-data", "us-trusted-cloud"]
    for description in packs.values():
        assert description and "\n" not in description
    assert "28 CFR 202" in packs["us-protected-data"]


def test_complete_example_in_the_docs_is_valid(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Complete example", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match, "docs/policy.md lost its complete example"
    policy_file = tmp_path / "example.yaml"
    policy_file.write_text(match.group(1), encoding="utf-8")
    policy = load_policy(policy_file, known_rules=RULES)
    assert policy.data_classes["us_user_data"].access.prohibited_countries == DSP
    assert policy.exceptions[0].id == "EXC-2026-001"


def test_country_groups_hold_the_documented_codes() -> None:
    groups = country_groups()
    assert tuple(sorted(groups["dsp_countries_of_concern"].codes)) == DSP
    assert groups["padfa_foreign_adversaries"].codes == {"CN", "RU", "IR", "KP"}
    assert len(groups["eu"].codes) == 27 and "HU" in groups["eu"].codes
    assert groups["eea"].codes == groups["eu"].codes | {"IS", "LI", "NO"}
    assert "US" not in groups["gdpr_adequate"].codes  # DPF-certified companies only
    assert {"GB", "JP", "CH", "KR"} <= groups["gdpr_adequate"].codes
    assert "TW" not in groups["dsp_countries_of_concern"].codes
    countries = iso_countries()
    assert len(countries) == 249
    assert all(code in countries for group in groups.values() for code in group.codes)
    assert countries["CN"].alpha3 == "CHN" and "UK" not in countries


# -- every mistake at its line -----------------------------------------------------------


def test_three_mistakes_give_exactly_three_problems_at_their_lines() -> None:
    problems = problems_of("three_mistakes.yaml")

    assert [where(p) for p in problems] == [(7, 7), (10, 56), (12, 5)]
    misspelt, country, approver = problems
    assert "unknown key 'aproved'" in misspelt.message
    assert misspelt.hint == "did you mean 'approved'?"
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in country.message
    assert "dsp_countries_of_concern" in (country.hint or "")
    assert "missing required key 'approver'" in approver.message
    assert "EXC-1" in approver.message
    assert all(p.location.path == str(POLICIES / "three_mistakes.yaml") for p in problems)


def test_load_raises_policy_error_carrying_every_problem() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(POLICIES / "three_mistakes.yaml")
    assert len(caught.value.problems) == 3
    text = str(caught.value)
    assert f"{POLICIES / 'three_mistakes.yaml'}:7:7: unknown key 'aproved'" in text


def test_yaml_syntax_error_has_line_and_column() -> None:
    (problem,) = problems_of("syntax_error.yaml")
    assert where(problem) == (9, 6)
    assert problem.message.startswith("YAML syntax error while parsing a block mapping on line 6")
    assert "indented" in (problem.hint or "")


def test_duplicate_key_is_reported_not_overwritten() -> None:
    (problem,) = problems_of("duplicate_key.yaml")
    assert where(problem) == (11, 5)
    assert problem.message == "duplicate key 'storage'"
    assert "line 6" in (problem.hint or "")


def test_unknown_rule_is_reported_only_when_rules_are_known() -> None:
    (problem,) = problems_of("unknown_rule.yaml", known_rules=RULES)
    assert where(problem) == (11, 11)
    assert "unknown rule 'access.prohibited-jurisdicton'" in problem.message
    assert problem.hint == "did you mean 'access.prohibited-jurisdiction'?"
    assert problems_of("unknown_rule.yaml") == []


def test_exception_without_subject_matcher() -> None:
    (problem,) = problems_of("no_matcher.yaml", known_rules=RULES)
    assert where(problem) == (10, 5)
    assert "does not say what it covers" in problem.message
    assert (problem.hint or "").startswith("an exception must say what it covers")


def test_unknown_group_name_gets_a_suggestion() -> None:
    (problem,) = problems_of("unknown_group.yaml")
    assert where(problem) == (12, 11)
    assert "'dsp_countries_of_concen'" in problem.message
    assert problem.hint == "did you mean the group 'dsp_countries_of_concern'?"


def test_exception_mistakes_data_class_date_and_duplicate_id() -> None:
    problems = problems_of("exception_mistakes.yaml")
    assert [where(p) for p in problems] == [(11, 17), (14, 14), (15, 9)]
    undefined, date, duplicate = problems
    assert "'us_usr_data', which the policy does not define" in undefined.message
    assert undefined.hint == "did you mean 'us_user_data'?"
    assert "not a valid date: '2026-02-30'" in date.message
    assert duplicate.message == "duplicate exception id 'EXC-1'"
    assert "line 10" in (duplicate.hint or "")


def test_structure_mistakes_marker_number_storage_and_group_as_country() -> None:
    problems = problems_of("structure_mistakes.yaml")
    assert [where(p) for p in problems] == [(1, 14), (3, 10), (5, 3), (10, 20)]
    marker, version, storage, country = problems
    assert "unsupported policy format 'policy/v2'" in marker.message
    assert "'version' must be text" in version.message
    assert 'version: "2026.1"' in (version.hint or "")
    assert "'us_user_data' has no approved storage location" in storage.message
    assert "'eea' is not an ISO 3166-1 alpha-2 country code" in country.message
    assert "only allowed in a list" in (country.hint or "")


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("cn", "write 'CN'"),
        ("USA", "write 'US'"),
        ("China", "'CN'"),
        ("UK", "'GB'"),
    ],
)
def test_near_miss_country_codes_say_what_to_write(tmp_path: Path, written: str, hint: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "borderwatch: policy/v1\nname: n\nversion: '1'\ndata_classes:\n  d:\n"
        f"    storage: {{approved: [{{country: US}}]}}\n"
        f"    access: {{prohibited_countries: [{written}]}}\n",
        encoding="utf-8",
    )
    (problem,) = validate_policy(path)
    assert where(problem) == (7, 37)
    assert hint in (problem.hint or "")


def test_missing_marker_and_empty_data_classes(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("# comment\nname: n\nversion: '1'\ndata_classes: {}\n", encoding="utf-8")
    marker, empty = validate_policy(path)
    assert where(marker) == (2, 1)
    assert "'borderwatch: policy/v1' is missing" in marker.message
    assert where(empty) == (4, 1)
    assert empty.message == "the policy defines no data classes"


def test_not_utf8_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"borderwatch: policy/v1\nname: caf\xe9\n")
    (problem,) = validate_policy(path)
    assert where(problem) == (2, 10)
    assert "not UTF-8" in problem.message
    assert problem.hint == "save the file as UTF-8"


def test_empty_file_and_comment_only_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"")
    (problem,) = validate_policy(path)
    assert problem.message == "the policy file is empty"
    assert "borderwatch: policy/v1" in (problem.hint or "")
    (problem,) = problems_of("empty.yaml")
    assert problem.message == "the policy file holds only comments"


def test_unknown_path_or_pack_lists_the_packs() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy("no/such/policy.yaml")
    (problem,) = caught.value.problems
    assert "no policy file or built-in pack named 'no/such/policy.yaml'" in problem.message
    assert "us-protected-data" in (problem.hint or "")
    assert "us-trusted-cloud" in (problem.hint or "")

    (near,) = validate_policy("us-protected")
    assert (near.hint or "").startswith("did you mean 'us-protected-data'?")


def test_builtin_only_never_reads_a_file() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(POLICIES / "valid.yaml", builtin_only=True)
    (problem,) = caught.value.problems
    assert "not a built-in policy pack" in problem.message
    assert "us-protected-data" in (problem.hint or "")


def test_existing_path_wins_over_a_pack_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "us-protected-data").write_text(
        (POLICIES / "valid.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert load_policy("us-protected-data").name == "valid-example"
