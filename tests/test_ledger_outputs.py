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


def test_a_plan_half_carried_out_is_finished_by_running_it_again(tmp_path: Path) -> None:
    """A kill among the moves aside (before any output is moved in) or among the moves
    in: finishing the plan does only the moves left, and nothing is lost."""
    from borderwatch.report.outfolder import OutputFolder
    from borderwatch.runtime.staging import SwapPlan

    for done_aside, done_in in [(1, 0), (3, 0), (3, 2)]:
        out = tmp_path / f"out-{done_aside}-{done_in}"
        out.mkdir()
        old = {"summary.json": b"old summary", "findings.json": b"old", "report.html": b"old"}
        for name, data in old.items():
            (out / name).write_bytes(data)
        with OutputFolder(out) as folder:
            new = [("findings.json", b"new"), ("report.html", b"new"), ("summary.json", b"s")]
            staged = folder.stage(new)
            moves = folder.set_aside(list(old))
            assert moves[0][0] == "summary.json"  # moved aside first
            plan = SwapPlan("../ledger", 0, 1, "0" * 64, staged.ordered(), tuple(moves))
            folder.write_plan(staged, plan)
            for name, kept in moves[:done_aside]:  # what the killed scan had done
                (out / kept).parent.mkdir(parents=True, exist_ok=True)
                (out / name).rename(out / kept)
            for name in staged.ordered()[:done_in]:
                (staged.folder / name).rename(out / name)
            assert folder.pending_swaps() == [(staged.folder, plan)]
            left = folder.finish_swap(staged.folder, plan)
        assert left == (3 - done_aside) + (3 - done_in)
        assert {name: (out / name).read_bytes() for name, _ in new} == dict(new)
        assert {name: (out / kept).read_bytes() for name, kept in moves} == old
        assert not staged.folder.exists()


def test_hostile_superseded_and_repair_entries_are_broken_links_not_crashes(
    tmp_path: Path,
) -> None:
    from borderwatch.evidence.ledger import canonical, record_hash

    ledger = tmp_path / "ledger"
    ledger.mkdir()
    bodies = [
        {"record": 1, "superseded": "not a list"},
        {"record": 2, "superseded": [7, {"path": "../x"}, {"path": "../y", "was": 3}]},
        {"record": 3, "repair": {"kept_as": "../../etc/passwd", "size": 1, "sha256": "0"}},
        {"record": 4, "repair": "torn"},
    ]
    lines, previous = [], None
    for body in bodies:
        full = {"format": "borderwatch-ledger/1", "previous": previous, "key": None, **body}
        full["inputs"], full["outputs"] = [], []
        record = {**full, "hash": record_hash(full), "signature": None}
        previous = record["hash"]
        lines.append(canonical(record) + b"\n")
    (ledger / LEDGER_FILE).write_bytes(b"".join(lines))
    report = api.verify_ledger(ledger)
    whats = {(b.record, b.what) for b in report.breaks}
    assert (1, "the record's superseded is not a list") in whats
    assert (2, "an entry of superseded names no file") in whats
    assert (2, "a superseded entry names no earlier place") in whats
    assert (3, "the record's repair names no file of the ledger") in whats
    assert (4, "the record's repair names no file of the ledger") in whats
