"""Data Security Program subjects from generic logs: a mapping puts the subject's column
into `resources` behind a prefix (docs/mapping.md), the store's subject key reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.sources.generic import GenericSource
from borderwatch.sources.mapping import MappingError, load_mapping

MAPPING = """\
name: app-reads
input: csv
header: [time, user, ip, table, patient_id]
columns:
  event_time: time
  provider: {value: aws}
  region: {value: us-east-1}
  action: {value: ReadRecord}
  principal: user
  caller: ip
  resources:
    - table
    - {column: patient_id, prefix: "patients/id="}
"""
POLICY = """\
borderwatch: policy/v1
name: dsp-generic
version: "1"
data_classes:
  genomes:
    dsp_categories: [human_genomic]
    storage:
      approved:
        - country: US
coverage:
  log_gap_min_daily_events: 1000000
dsp:
  countries_of_concern: [dsp_countries_of_concern]
  subject_keys:
    - match: genome-app
      pattern: '^patients/id=(?P<subject>.+)$'
"""


def _folder(tmp_path: Path, patients: list[str]) -> Path:
    folder = tmp_path / "case"
    (folder / "events").mkdir(parents=True)
    (folder / "mapping.yaml").write_text(MAPPING)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "inventory.csv").write_text(
        "store_id,provider,region,service,data_classes,dsp_subjects\n"
        "genome-app,aws,us-east-1,rds,genomes,\n"
        "genome-archive,aws,us-east-1,s3,genomes,500\n"
    )
    (folder / "identities.csv").write_text(
        "principal,person,work_country,resident_country\nanalyst,analyst,US,CN\n"
    )
    rows = ["time,user,ip,table,patient_id"]
    rows += [f"2026-03-02T10:00:00Z,analyst,12.34.56.78,genome-app,{p}" for p in patients]
    (folder / "events" / "reads.csv").write_text("\n".join(rows) + "\n")
    return folder


def _scan(folder: Path, out: Path) -> list[dict]:
    args = ["scan", "--policy", str(folder / "policy.yaml")]
    args += ["--inventory", str(folder / "inventory.csv")]
    args += ["--identities", str(folder / "identities.csv")]
    args += ["--mapping", str(folder / "mapping.yaml"), "--input-format", "app-reads"]
    args += ["--events", str(folder / "events"), "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    findings = json.loads((out / "findings.json").read_text())
    return [f for f in findings if f["rule"].startswith("dsp.")]


def test_a_mapped_subject_column_counts_distinct_subjects(tmp_path: Path) -> None:
    patients = [f"P{i:04d}" for i in range(101)] + ["P0000", "P0001"]  # two read twice
    found = _scan(_folder(tmp_path, patients), tmp_path / "out")
    assert [(f["rule"], f["principal"], f["count"]) for f in found] == [
        ("dsp.prohibited-transaction", "person:analyst", 101)
    ]
    assert found[0]["evidence"]["named_subjects"] == 101
    assert found[0]["evidence"]["whole_store_subjects"] == 0


def test_a_subject_value_naming_a_store_touches_no_other_store(tmp_path: Path) -> None:
    """Behind its prefix a subject value cannot pose as a store's name: the read of
    patient 'genome-archive' is a read of genome-app, not of the archive (whose 500
    persons would otherwise count whole)."""
    found = _scan(_folder(tmp_path, ["genome-archive", "P1"]), tmp_path / "out")
    assert found == []  # 2 subjects: under the threshold, and no whole-store read


def test_the_prefix_goes_before_each_value(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["P1", " P2 ", ""])
    source = GenericSource(load_mapping(folder / "mapping.yaml"))
    (batch,) = source.read(folder / "events" / "reads.csv")
    assert batch.events.column("resources").to_pylist() == [
        ["genome-app", "patients/id=P1"],
        ["genome-app", "patients/id=P2"],
        ["genome-app"],
    ]


def test_a_prefix_that_is_not_text_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(MAPPING.replace('prefix: "patients/id="', "prefix: [1]"))
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert "prefix" in str(caught.value) and f"{path}:13" in str(caught.value)
