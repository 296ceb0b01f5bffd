"""Subject-count files (--dsp-volumes): distinct US persons per DSP store and category,
beside the inventory's dsp_subjects column (inventory/volumes.py, docs/dsp.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.inventory.volumes import read_volume_file

CASE = Path(__file__).parent / "cases" / "dsp-items"


def _case(tmp_path: Path, volumes: str, inventory: str | None = None) -> Path:
    folder = tmp_path / "case"
    shutil.copytree(CASE, folder)
    (folder / "volumes.csv").write_text(volumes)
    if inventory is not None:
        (folder / "inventory.csv").write_text(inventory)
    return folder


def _scan(folder: Path, out: Path, *, volumes: bool = True) -> tuple[int, str]:
    args = ["scan", "--policy", str(folder / "policy.yaml")]
    args += ["--inventory", str(folder / "inventory.csv")]
    args += ["--identities", str(folder / "identities.csv")]
    args += ["--events", str(folder / "events"), "--out", str(out), "--quiet"]
    if volumes:
        args += ["--dsp-volumes", str(folder / "volumes.csv")]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def _health(out: Path) -> dict:
    findings = json.loads((out / "findings.json").read_text())
    (found,) = [f for f in findings if f["principal"] == "person:reader-health-scan"]
    return found


def test_a_whole_store_read_counts_the_volume_the_file_gives(tmp_path: Path) -> None:
    folder = _case(tmp_path, "store_id,category,subjects\nhealth-items,personal_health,10001\n")
    code, output = _scan(folder, tmp_path / "out")
    assert code == 1, output
    found = _health(tmp_path / "out")
    assert (found["rule"], found["count"], found["severity"]) == (
        "dsp.bulk-threshold-reached",
        10001,
        "critical",
    )
    assert found["evidence"]["whole_stores"] == ["health-items"]
    # Without the file the volume is unknown: said so, never a pass.
    code, output = _scan(folder, tmp_path / "without", volumes=False)
    unknown = _health(tmp_path / "without")
    assert unknown["evidence"]["volume_unknown_stores"] == ["health-items"]
    assert unknown["severity"] == "high"


def test_the_inventory_and_the_file_agreeing_is_no_conflict(tmp_path: Path) -> None:
    inventory = (
        (CASE / "inventory.csv")
        .read_text()
        .replace(
            "health-items,aws,us-east-1,dynamodb,health_records,",
            "health-items,aws,us-east-1,dynamodb,health_records,10001",
        )
    )
    folder = _case(
        tmp_path, "store_id,category,subjects\nhealth-items,personal_health,10001\n", inventory
    )
    code, output = _scan(folder, tmp_path / "out")
    assert code == 1, output
    assert _health(tmp_path / "out")["count"] == 10001


def test_the_inventory_and_the_file_disagreeing_is_refused_naming_both(tmp_path: Path) -> None:
    inventory = (
        (CASE / "inventory.csv")
        .read_text()
        .replace(
            "health-items,aws,us-east-1,dynamodb,health_records,",
            "health-items,aws,us-east-1,dynamodb,health_records,personal_health=9000",
        )
    )
    folder = _case(
        tmp_path,
        "store_id,category,subjects\nface-items,biometric,5\nhealth-items,personal_health,10001\n",
        inventory,
    )
    code, output = _scan(folder, tmp_path / "out")
    assert code == 2, output
    text = " ".join(output.split())
    assert f"{folder / 'volumes.csv'}:3" in text
    assert f"{folder / 'inventory.csv'}:4" in text
    assert "10,001" in text and "9,000" in text
    assert not (tmp_path / "out" / "findings.json").exists()


def test_bad_rows_are_quarantined_with_their_line_and_accounted(tmp_path: Path) -> None:
    volumes = (
        "store_id,category,subjects,as_of,source\n"
        "health-items,personal_health,10001,2026-02-28,DATA-OPS-311\n"
        "face-items,biometric,many,2026-02-28,x\n"
        "face-items,faces,5,2026-02-28,x\n"
        "face-items,biometric,5,yesterday,x\n"
        ",biometric,5,,\n"
        "nowhere,biometric,5,,\n"
        "health-items,personal_health,10001,,a second time\n"
        "genome-items,human_genomic,-3,,\n"
    )
    folder = _case(tmp_path, volumes)
    out = tmp_path / "out"
    code, output = _scan(folder, out)
    assert code == 1, output
    summary = json.loads((out / "summary.json").read_text())
    (item,) = [i for i in summary["inputs"] if i["kind"] == "dsp-volumes"]
    assert (item["records_read"], item["accepted"], item["quarantined"]) == (8, 1, 7)
    rows = [json.loads(line) for line in (out / "quarantine.jsonl").read_text().splitlines()]
    reasons = {r["position"]: r["reason"] for r in rows if r["source_format"] == "dsp-volumes"}
    assert set(reasons) == {f"line {n}" for n in range(3, 10)}
    assert "whole number" in reasons["line 3"]
    assert "not a DSP category" in reasons["line 4"]
    assert "as_of" in reasons["line 5"]
    assert "store_id" in reasons["line 6"]
    assert "no store 'nowhere'" in reasons["line 7"]
    assert "given twice (first at" in reasons["line 8"] and "volumes.csv:2" in reasons["line 8"]
    assert "negative" in reasons["line 9"]
    assert _health(out)["count"] == 10001  # the good row is used


def test_a_file_without_the_required_columns_is_refused_whole(tmp_path: Path) -> None:
    folder = _case(tmp_path, "store,category,count\nhealth-items,personal_health,10001\n")
    code, output = _scan(folder, tmp_path / "out")
    assert code == 2, output
    assert "subjects" in output


def test_as_of_and_source_are_read(tmp_path: Path) -> None:
    path = tmp_path / "volumes.csv"
    path.write_text(
        "store_id,category,subjects,as_of,evidence\nhealth-items,combined,7,2026-02-28,Q-1\n"
    )
    read = read_volume_file(path)
    (row,) = read.items
    assert (row.category, row.subjects, str(row.as_of), row.source) == (
        "combined",
        7,
        "2026-02-28",
        "Q-1",
    )
    assert row.origin == f"{path}:2"
