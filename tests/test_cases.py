"""Golden end-to-end cases: each folder under tests/cases runs the real CLI.

A case folder holds policy.yaml, inventory.(csv|yaml), optionally identities,
entities and travel (csv|yaml), events/, iam/ (IAM exports for --iam), volumes.csv (for
--dsp-volumes), a feed log feed.*
with feed-mapping.yaml, and case.yaml (extra CLI args and the expected exit code);
expected.json lists exactly the findings the scan must produce, no more and no fewer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from borderwatch.cli import main

CASES = Path(__file__).parent / "cases"
# Case args may name the shared real data as {REAL}; it is read in place, never copied.
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def _case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "expected.json").exists())


def _one(folder: Path, stem: str) -> list[str]:
    return [str(p) for p in sorted(folder.glob(f"{stem}.*"))]


def _scan_args(folder: Path, out: Path) -> list[str]:
    args = ["scan", "--policy", str(folder / "policy.yaml"), "--out", str(out), "--quiet"]
    for path in _one(folder, "inventory"):
        args += ["--inventory", path]
    for stem in ("identities", "entities", "travel"):
        for path in _one(folder, stem):
            args += [f"--{stem}", path]
    for path in sorted((folder / "iam").glob("*")):
        args += ["--iam", str(path)]
    # Subject counts per DSP store and category (docs/dsp.md, --dsp-volumes).
    for path in _one(folder, "volumes"):
        args += ["--dsp-volumes", path]
    if (folder / "events").exists():
        args += ["--events", str(folder / "events")]
    # A served-recommendation log and its mapping (the feed audit, docs/oversight.md).
    for path in _one(folder, "feed"):
        args += ["--feed", path]
    for path in _one(folder, "feed-mapping"):
        args += ["--feed-mapping", path]
    return args


SNAPSHOT = "findings.snapshot.json"
UPDATE = "BORDERWATCH_UPDATE_SNAPSHOTS"


def _normalised(path: Path, folder: Path, out: Path) -> str:
    """The file's text with the machine's own paths replaced by placeholders."""
    return path.read_text().replace(str(folder), "<CASE>").replace(str(out), "<OUT>")


def _snapshot(folder: Path) -> str:
    return (folder / SNAPSHOT).read_text()


def _comparable(finding: dict) -> dict:
    row = {k: finding[k] for k in ("rule", "resource", "principal", "country", "status", "count")}
    if finding["exception"]:
        row["exception"] = finding["exception"]["id"]
    if "expired_exceptions" in finding["evidence"]:
        row["expired_exceptions"] = finding["evidence"]["expired_exceptions"]
    return row


def _key(row: dict) -> tuple:
    return (row["rule"], row["resource"] or "", row["principal"] or "", row["country"] or "")


@pytest.mark.parametrize("name", _case_names())
def test_golden_case(name: str, tmp_path: Path) -> None:
    folder = CASES / name
    case = YAML(typ="safe").load((folder / "case.yaml").read_text())
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        _scan_args(folder, out)
        + [str(a).replace("{REAL}", str(REAL)) for a in case.get("args") or []],
    )
    assert result.exit_code == case["exit_code"], result.output
    if os.environ.get(UPDATE) == "1":
        (folder / SNAPSHOT).write_text(_normalised(out / "findings.json", folder, out))
    findings = json.loads((out / "findings.json").read_text())
    got = sorted((_comparable(f) for f in findings), key=_key)
    expected = sorted(json.loads((folder / "expected.json").read_text()), key=_key)
    assert got == expected
    # The whole findings.json, byte for byte, as it was when the snapshot was taken:
    # moving code between rooms must not change one byte of what a scan reports.
    assert _normalised(out / "findings.json", folder, out) == _snapshot(folder), (
        f"findings.json of case {name} differs from {folder.name}/{SNAPSHOT}; if the change "
        f"is intended, rewrite the snapshot with {UPDATE}=1"
    )
    # Every finding explains itself and carries its provenance.
    for finding in findings:
        assert finding["id"].startswith("BW-")
        assert finding["message"]
        assert finding["provenance"]["data"]["locations"]
    summary = json.loads((out / "summary.json").read_text())
    for item in summary["inputs"]:
        assert item["records_read"] == item["accepted"] + item["quarantined"], item
    assert (out / "report.html").stat().st_size > 0


@pytest.mark.parametrize("name", _case_names())
def test_finding_ids_are_stable_across_runs(name: str, tmp_path: Path) -> None:
    folder = CASES / name
    case = YAML(typ="safe").load((folder / "case.yaml").read_text())
    ids = []
    for run in ("first", "second"):
        out = tmp_path / run
        CliRunner().invoke(
            main,
            _scan_args(folder, out)
            + [str(a).replace("{REAL}", str(REAL)) for a in case.get("args") or []],
        )
        ids.append([f["id"] for f in json.loads((out / "findings.json").read_text())])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == len(ids[0])
