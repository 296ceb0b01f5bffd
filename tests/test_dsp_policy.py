"""The Data Security Program in the policy and the inventory: the `dsp` pack's categories
and the regulation's thresholds, an override only with a reason (else an error at its
line), subject key patterns, agreements, and the inventory's per-category volumes."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderwatch.errors import PolicyError
from borderwatch.inventory.stores import read_inventory
from borderwatch.inventory.volumes import subject_volumes
from borderwatch.model.dsp import REGULATION
from borderwatch.policy import load_policy, validate_policy
from borderwatch.tables.convert import CellError

BASE = """\
borderwatch: policy/v1
name: dsp-test
version: "1"
data_classes:
  customers:
    dsp_categories: [covered_personal_identifiers, precise_geolocation]
    storage:
      approved: [{country: US}]
dsp:
  countries_of_concern: [dsp_countries_of_concern]
"""


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path


def test_the_dsp_pack_holds_every_category_at_the_regulations_threshold() -> None:
    policy = load_policy("dsp")
    categories = {c for dc in policy.data_classes.values() for c in dc.dsp_categories}
    assert categories == set(REGULATION)
    assert {c: policy.dsp.threshold(c) for c in REGULATION} == {
        "human_genomic": 100,
        "human_omic": 1_000,
        "biometric": 1_000,
        "precise_geolocation": 1_000,
        "personal_health": 10_000,
        "personal_financial": 10_000,
        "covered_personal_identifiers": 100_000,
        "government_related": 0,
    }
    assert set(policy.dsp.countries_of_concern) == {"CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"}


def test_a_threshold_other_than_the_regulations_needs_a_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, "  thresholds:\n    covered_personal_identifiers: {value: 50000}\n")
    problems = validate_policy(path)
    assert len(problems) == 1
    assert problems[0].location.path == str(path)
    assert problems[0].location.line == 12
    assert "without a reason" in problems[0].message
    assert "100,000" in problems[0].message
    with pytest.raises(PolicyError):
        load_policy(path)


def test_a_threshold_with_a_reason_applies(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  thresholds:\n    covered_personal_identifiers:\n      value: 50000\n"
        "      reason: internal standard SEC-STD-9 counts half the regulation's\n",
    )
    policy = load_policy(path)
    assert policy.dsp.threshold("covered_personal_identifiers") == 50_000
    assert policy.dsp.threshold("precise_geolocation") == 1_000


def test_the_regulations_own_value_needs_no_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, "  thresholds:\n    biometric: {value: 1000}\n")
    assert validate_policy(path) == []


def test_an_unknown_category_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(BASE.replace("precise_geolocation]", "precise_geolocaton]"), "utf-8")
    problems = validate_policy(path)
    assert [p.location.line for p in problems] == [6]


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("users/([0-9]+)/", "no group named 'subject'"),
        ("users/(?P<subject>[0-9+/", "not a valid regular expression"),
    ],
)
def test_a_subject_key_pattern_must_compile_and_name_the_subject(
    tmp_path: Path, pattern: str, words: str
) -> None:
    path = _write(tmp_path, f"  subject_keys:\n    - {{match: 'users*', pattern: '{pattern}'}}\n")
    problems = validate_policy(path)
    assert len(problems) == 1
    assert words in problems[0].message
    assert problems[0].location.line == 12


def test_cisa_requirements_in_place_need_their_evidence(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  agreements:\n    - counterparty: 'entity:acme'\n      kind: vendor\n"
        "      cisa: {in_place: true}\n",
    )
    problems = validate_policy(path)
    assert len(problems) == 1
    assert "evidence" in problems[0].message
    fixed = _write(
        tmp_path,
        "  agreements:\n    - counterparty: 'entity:acme'\n      kind: vendor\n"
        "      cisa: {in_place: true, evidence: GRC-42}\n",
    )
    agreement = load_policy(fixed).dsp.agreements[0]
    assert (agreement.kind, agreement.cisa.in_place, agreement.cisa.evidence) == (
        "vendor",
        True,
        "GRC-42",
    )


def test_volumes_are_one_number_or_per_category() -> None:
    assert subject_volumes({"dsp_subjects": "250,000"}) == (("*", 250_000),)
    assert subject_volumes(
        {"dsp_subjects": "precise_geolocation=1200; covered_personal_identifiers=250000"}
    ) == (("covered_personal_identifiers", 250_000), ("precise_geolocation", 1_200))
    assert subject_volumes({"dsp_subjects": {"biometric": 12}}) == (("biometric", 12),)
    assert subject_volumes({"dsp_subjects": ""}) == ()
    for bad, words in [
        ("biometrics=12", "not a DSP category"),
        ("biometric=-1", "must not be negative"),
        ("biometric=1;biometric=2", "twice"),
        ("biometric:12", "whole number"),
    ]:
        with pytest.raises(CellError, match=words):
            subject_volumes({"dsp_subjects": bad})


def test_a_bad_volume_quarantines_its_row_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(
        "store_id,provider,region,data_classes,dsp_subjects\n"
        "a,aws,us-east-1,customers,biometric=12\n"
        "b,aws,us-east-1,customers,biometrix=12\n",
        encoding="utf-8",
    )
    read = read_inventory(path)
    assert [(s.store_id, s.dsp_subjects) for s in read.stores] == [("a", (("biometric", 12),))]
    assert len(read.quarantined) == 1
    assert "line 3" in read.quarantined[0].position or "3" in read.quarantined[0].position
    assert "biometrix" in read.quarantined[0].reason
