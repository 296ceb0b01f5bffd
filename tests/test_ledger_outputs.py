"""In an output folder a ledger names, no file a record names is removed or overwritten:
a later ledgered scan moves it aside into superseded/ and its record says so, verify
checks it there against the record that wrote it, and a scan without that ledger is
refused (api.py, report/outfolder.py, evidence/ledger_verify.py, docs/evidence.md)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.errors import UsageError
from borderwatch.evidence.ledger import LEDGER_FILE
from ledgerkit import CASE, make_keys

ALL = {
    "findings.json",
    "summary.json",
    "quarantine.jsonl",
    "report.html",
    "findings.sarif",
    "residency.csv",
    "findings.csv",
}


def _scan(base: Path, key: Path, ledger: Path | None, outputs: list[str] | None = None) -> None:
    inputs = base / "inputs"
    api.scan(
        policy=inputs / "policy.yaml",
        inventory=[inputs / "inventory.yaml"],
        identities=[inputs / "identities.yaml"],
        events=[inputs / "events"],
        out=base / "out",
        ledger=ledger,
        sign_key=key if ledger is not None else None,
        outputs=outputs,
    )


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    private, public = make_keys(tmp_path / "keys")
    base = tmp_path / "tree"
    shutil.copytree(
        CASE,
        base / "inputs",
        ignore=shutil.ignore_patterns("expected.json", "findings.snapshot.json", "case.yaml"),
    )
    return base, private, public


def _records(ledger: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (ledger / LEDGER_FILE).read_bytes().splitlines()]


def _outputs_in(folder: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes()
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.name != "state.duckdb"
    }


def test_a_scan_writing_fewer_formats_moves_the_old_files_aside_and_names_them(
    tmp_path: Path,
) -> None:
    base, private, public = _tree(tmp_path)
    ledger = base / "ledger"
    _scan(base, private, ledger)
    first = _outputs_in(base / "out")
    assert set(first) == ALL
    _scan(base, private, ledger, outputs=["json"])

    # The folder holds this scan's files only (none of the first stands as if current)...
    now = _outputs_in(base / "out")
    assert set(now) == {"findings.json", "summary.json", "quarantine.jsonl"}
    # ...and every file of the first scan is kept, byte for byte, in one superseded/ folder.
    (kept_folder,) = (base / "out" / "superseded").iterdir()
    assert _outputs_in(kept_folder) == first
    second = _records(ledger)[1]
    moved = {Path(str(e["was"])).name: e for e in second["superseded"]}  # type: ignore[union-attr]
    assert set(moved) == ALL
    for name, entry in moved.items():
        assert entry["was"] == f"../out/{name}"
        assert entry["path"] == f"../out/superseded/{kept_folder.name}/{name}"
        assert entry["sha256"] == hashlib.sha256(first[name]).hexdigest()

    report = api.verify_ledger(ledger, public)
    assert report.status == "verified", [str(b) for b in report.breaks]
    # Each record's outputs checked: the first's where they are kept, none superseded
    # unchecked (only the four inputs, read by both).
    assert report.files_checked == len(ALL) + 3 + 4
    assert report.superseded == 4

    # A kept file changed is found, named by the record that keeps it.
    target = kept_folder / "report.html"
    target.write_bytes(target.read_bytes() + b"<!-- edited -->")
    broken = api.verify_ledger(ledger, public)
    assert broken.status == "tampered"
    assert [(b.record, b.what) for b in broken.breaks] == [(2, "content changed")]
    assert f"superseded/{kept_folder.name}/report.html" in str(broken.breaks[0].file)


def test_a_file_changed_between_two_records_is_found_when_it_is_moved_aside(
    tmp_path: Path,
) -> None:
    base, private, public = _tree(tmp_path)
    ledger = base / "ledger"
    _scan(base, private, ledger)
    findings = base / "out" / "findings.json"
    findings.write_bytes(findings.read_bytes().replace(b"[", b"[ ", 1))
    _scan(base, private, ledger)
    report = api.verify_ledger(ledger, public)
    assert report.status == "tampered"
    (only,) = report.breaks
    assert only.record == 1 and "content changed before record 2 moved it aside" in only.what
    assert only.file == "output ../out/findings.json"


def test_a_scan_without_the_ledger_is_refused_on_a_ledgered_folder(tmp_path: Path) -> None:
    base, private, public = _tree(tmp_path)
    ledger = base / "ledger"
    _scan(base, private, ledger)
    before = _outputs_in(base / "out")
    with pytest.raises(UsageError, match="named by the evidence ledger"):
        _scan(base, private, None)
    other = tmp_path / "other-ledger"
    with pytest.raises(UsageError, match="give --ledger"):
        _scan(base, private, other)
    assert _outputs_in(base / "out") == before and not other.exists()
    inputs = base / "inputs"
    result = CliRunner().invoke(
        main,
        ["scan", "--policy", str(inputs / "policy.yaml"), "--out", str(base / "out"), "--quiet"],
    )
    assert result.exit_code == 2 and "named by the evidence ledger" in result.output
    # Moved as a whole, the folder still knows its ledger.
    moved = tmp_path / "moved"
    shutil.copytree(base, moved)
    _scan(moved, private, moved / "ledger")
    assert api.verify_ledger(moved / "ledger", public).status == "verified"
