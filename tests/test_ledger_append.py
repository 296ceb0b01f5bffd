"""Appending to the evidence ledger: append-only writes that read only the ledger's end,
a torn last record refused or set aside with a record naming it, and ledgers written
before this way of appending still verifying and chaining (evidence/ledger.py,
evidence/ledger_tail.py, docs/evidence.md)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from borderwatch import api
from borderwatch.cli import main
from borderwatch.errors import UsageError
from borderwatch.evidence.ledger import LEDGER_FILE, FileRef, RunFacts, append_run, prepare
from borderwatch.evidence.ledger_tail import read_tail, tail_of
from borderwatch.evidence.signing import load_signing_key
from ledgerkit import build_tree, make_keys, scan_into


def _facts(folder: Path, number: int, inputs: int = 1) -> RunFacts:
    files = [folder / f"input-{i}.txt" for i in range(inputs)]
    for path in files:
        if not path.exists():
            path.write_text(f"{path.name}\n")
    return RunFacts(
        tool_version="test",
        policy={"name": "p", "version": "1", "sha256": "0" * 64},
        scan={"verdict": "pass", "run": number},
        data_versions={"ip": "x"},
        inputs=[FileRef(str(path), "events") for path in files],
        outputs=[],
    )


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    torn=st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
    block=st.integers(1, 50),
)
def test_the_end_read_backwards_in_blocks_is_the_end_of_the_bytes(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], torn: bytes, block: int
) -> None:
    data = b"".join(line + b"\n" for line in lines) + torn
    path = tmp_path_factory.mktemp("tail") / "ledger.jsonl"
    path.write_bytes(data)
    handle = os.open(path, os.O_RDONLY)
    try:
        tail = read_tail(handle, block)
    finally:
        os.close(handle)
    assert tail == tail_of(data)
    assert tail.torn == len(torn)
    assert tail.last_line == (lines[-1] if lines else None)
    if lines:
        assert data[tail.last_start : tail.whole_end] == lines[-1] + b"\n"


def test_appending_writes_one_line_at_the_end_and_reads_only_the_last_record(
    tmp_path: Path,
) -> None:
    """The ledger file is never rewritten (same inode, old bytes kept as they were), and
    an append does not read what precedes the last record: a damaged first line does not
    stop it (verify still finds that line)."""
    ledger = tmp_path / "ledger"
    append_run(ledger, _facts(tmp_path, 1), None)
    append_run(ledger, _facts(tmp_path, 2), None)
    path = ledger / LEDGER_FILE
    before, inode = path.read_bytes(), path.stat().st_ino
    record = append_run(ledger, _facts(tmp_path, 3), None)
    after = path.read_bytes()
    assert path.stat().st_ino == inode
    assert after.startswith(before) and after.count(b"\n") == 3
    assert json.loads(after.splitlines()[-1])["record"] == record["record"] == 3
    assert sorted(p.name for p in ledger.iterdir()) == ["ledger.jsonl", "ledger.lock"]
    # Damage the first line in place (same length): an append chains onto the last.
    first_end = after.index(b"\n")
    path.write_bytes(b"x" * first_end + after[first_end:])
    fourth = append_run(ledger, _facts(tmp_path, 4), None)
    assert fourth["previous"] == record["hash"]
    report = api.verify_ledger(ledger)
    assert [b.record for b in report.breaks] == [1]  # the damaged line, found


def _old_ledger(base: Path, key: Ed25519PrivateKey) -> Path:
    """A ledger as scans wrote it before outputs were moved aside: two runs into the one
    output folder, the second overwriting the first's findings.json and dropping its
    report.csv, records without `superseded`; built here by the format's rules
    (docs/evidence.md), not by the code under test."""
    ledger, out = base / "ledger", base / "out"
    ledger.mkdir(parents=True)
    out.mkdir()
    raw = key.public_key().public_bytes_raw()
    lines, previous = [], None
    for number, files in enumerate(
        [{"findings.json": b"[1]\n", "report.csv": b"a\n"}, {"findings.json": b"[2]\n"}], 1
    ):
        for name, data in files.items():
            (out / name).write_bytes(data)
        body = {
            "format": "borderwatch-ledger/1",
            "record": number,
            "previous": previous,
            "time": f"2026-01-0{number}T00:00:00Z",
            "tool": {"name": "borderwatch", "version": "0.old"},
            "policy": {"name": "p", "version": "1", "sha256": "0" * 64},
            "scan": {"verdict": "pass"},
            "root": str(ledger),
            "inputs": [],
            "outputs": [
                {
                    "path": f"../out/{name}",
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
                for name, data in sorted(files.items())
            ],
            "data_versions": {},
            "key": {
                "algorithm": "ed25519",
                "public_key": base64.b64encode(raw).decode(),
                "fingerprint": hashlib.sha256(raw).hexdigest(),
            },
        }
        data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        record = {
            **body,
            "hash": hashlib.sha256(data).hexdigest(),
            "signature": base64.b64encode(key.sign(data)).decode(),
        }
        previous = record["hash"]
        lines.append(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())
    (ledger / LEDGER_FILE).write_bytes(b"".join(line + b"\n" for line in lines))
    return ledger


def test_a_ledger_written_the_old_way_verifies_and_takes_new_records(tmp_path: Path) -> None:
    private, public = make_keys(tmp_path / "keys")
    key = load_signing_key(private)
    ledger = _old_ledger(tmp_path / "tree", key.key)
    report = api.verify_ledger(ledger, public)
    assert report.status == "verified", [str(b) for b in report.breaks]
    # The overwritten findings.json is checked against the later record only.
    assert (report.records, report.files_checked, report.superseded) == (2, 2, 1)
    record = append_run(ledger, _facts(tmp_path, 3), key)
    assert record["record"] == 3
    assert api.verify_ledger(ledger, public).status == "verified"


def test_a_torn_last_record_is_refused_then_set_aside_and_named_on_repair(
    tmp_path: Path,
) -> None:
    private, public = make_keys(tmp_path / "keys")
    key = load_signing_key(private)
    ledger = tmp_path / "ledger"
    for number in (1, 2):
        append_run(ledger, _facts(tmp_path, number, inputs=5), key)
    path = ledger / LEDGER_FILE
    whole = path.read_bytes()
    third = append_run(ledger, _facts(tmp_path, 3, inputs=5), key)
    torn = path.read_bytes()[: len(whole) + 301]  # the third record, cut after 301 bytes
    path.write_bytes(torn)

    report = api.verify_ledger(ledger, public)
    assert report.status == "torn" and report.breaks == [] and report.records == 2
    assert report.torn is not None
    assert (report.torn.offset, report.torn.size, report.torn.after_record) == (len(whole), 301, 2)
    printed = CliRunner().invoke(main, ["verify", str(ledger), "--key", str(public)])
    assert printed.exit_code == 1
    assert f"301 byte(s) from offset {len(whole):,}, after line 2" in printed.output
    assert "TORN:" in printed.output

    for attempt in (
        lambda: prepare(ledger, key),
        lambda: append_run(ledger, _facts(tmp_path, 4), key),
    ):
        with pytest.raises(
            UsageError, match=f"torn record: 301 byte\\(s\\) from offset {len(whole):,}"
        ):
            attempt()
    assert path.read_bytes() == torn  # refused: nothing changed

    prepare(ledger, key, repair=True)
    record = append_run(ledger, _facts(tmp_path, 4), key, repair=True)
    kept = ledger / f"ledger.torn-{len(whole)}.bin"
    assert kept.read_bytes() == torn[len(whole) :]
    assert record["record"] == 3 and record["previous"] != third["hash"]
    assert record["repair"]["offset"] == len(whole) and record["repair"]["size"] == 301
    assert record["repair"]["sha256"] == hashlib.sha256(kept.read_bytes()).hexdigest()
    assert record["repair"]["kept_as"] == kept.name
    assert path.read_bytes().startswith(whole) and path.read_bytes().count(b"\n") == 3
    repaired = api.verify_ledger(ledger, public)
    assert repaired.status == "verified", [str(b) for b in repaired.breaks]
    assert any("set aside a torn record of 301 bytes" in note for note in repaired.notes)
    # The kept bytes are evidence like any file the ledger names.
    kept.write_bytes(kept.read_bytes() + b"x")
    assert api.verify_ledger(ledger, public).status == "tampered"


def test_scan_refuses_a_torn_ledger_and_repair_ledger_sets_it_aside(tmp_path: Path) -> None:
    private, public = make_keys(tmp_path / "keys")
    base = tmp_path / "tree"
    ledger = build_tree(base, private, runs=1)
    path = ledger / LEDGER_FILE
    data = path.read_bytes()
    path.write_bytes(data + data[:99])  # a second record torn after 99 bytes
    args = ["--ledger", str(ledger), "--sign-key", str(private)]
    inputs = base / "inputs"
    command = ["scan", "--policy", str(inputs / "policy.yaml")]
    command += ["--inventory", str(inputs / "inventory.yaml")]
    command += ["--identities", str(inputs / "identities.yaml"), "--events", str(inputs / "events")]
    refused = CliRunner().invoke(main, [*command, "--out", str(base / "out2"), *args])
    assert refused.exit_code == 2 and "torn record: 99 byte(s)" in refused.output
    assert "--repair-ledger" in refused.output and not (base / "out2").exists()
    repaired = CliRunner().invoke(
        main, [*command, "--out", str(base / "out2"), *args, "--repair-ledger"]
    )
    assert repaired.exit_code == 0, repaired.output
    assert (ledger / f"ledger.torn-{len(data)}.bin").read_bytes() == data[:99]
    assert api.verify_ledger(ledger, public).status == "verified"
    scan_into(base, 3, private)  # and the ledger takes records as usual after it


# A child that appends records of many inputs (each line spans many pages, so a kill
# can land inside its write) until it is killed.
APPEND_FOREVER = """
import sys
from pathlib import Path
from borderwatch.evidence.ledger import FileRef, RunFacts, append_run
from borderwatch.evidence.signing import load_signing_key

folder, key = Path(sys.argv[1]), load_signing_key(Path(sys.argv[2]))
inputs = [FileRef(str(path), "events") for path in sorted(folder.parent.glob("input-*"))]
print("ready", flush=True)
number = 0
while True:
    number += 1
    append_run(folder, RunFacts("test", {"name": "p"}, {"run": number}, {}, inputs, []), key,
               repair=True)
"""


def test_a_kill_while_appending_leaves_whole_records_or_one_torn_record(tmp_path: Path) -> None:
    """SIGKILL an appending process at random moments: each time the ledger is whole
    records, or whole records and one torn record that verify reports as such (never
    a break); the next append sets the torn bytes aside and names them."""
    private, public = make_keys(tmp_path / "keys")
    for index in range(400):
        (tmp_path / f"input-{index:03d}.txt").write_text(f"input {index}\n")
    ledger = tmp_path / "ledger"
    seen, torn = 0, 0
    for attempt in range(12):
        process = subprocess.Popen(
            [sys.executable, "-c", APPEND_FOREVER, str(ledger), str(private)],
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        time.sleep(0.1 + (attempt % 4) * 0.13)
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        if not (ledger / LEDGER_FILE).exists():
            continue
        report = api.verify_ledger(ledger, public)
        assert report.breaks == [], [str(b) for b in report.breaks]
        assert report.status in ("verified", "torn")
        torn += report.status == "torn"
        assert report.records >= seen
        seen = report.records
    assert seen >= 3
    print(f"kills that tore a record: {torn} of 12")


# A child whose file size limit stops its append's write partway: the kernel cuts the
# write short at the limit and kills the process (SIGXFSZ) when it writes on, as a
# kill or a full disk in the middle of the line would.
APPEND_CUT_OFF = """
import resource, signal, sys
from pathlib import Path
from borderwatch.evidence.ledger import FileRef, RunFacts, append_run

folder, limit, killed = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "killed"
inputs = [FileRef(str(path), "events") for path in sorted(folder.parent.glob("input-*"))]
if killed:  # Python ignores SIGXFSZ (the write fails instead); the kernel's default kills
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
append_run(folder, RunFacts("test", {"name": "p"}, {"run": 9}, {}, inputs, []), None)
"""


def test_a_process_killed_partway_through_its_line_leaves_a_torn_record_verify_names(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "ledger"
    for number in (1, 2):
        append_run(ledger, _facts(tmp_path, number, inputs=30), None)
    path = ledger / LEDGER_FILE
    whole = path.read_bytes()
    limit = len(whole) + 1000  # the third line is about 4,000 bytes: cut after 1,000
    # Not killed: the write fails (as on a full disk) and the append takes its part of
    # the line back: the ledger is as it was.
    failed = subprocess.run(
        [sys.executable, "-c", APPEND_CUT_OFF, str(ledger), str(limit), "failed"],
        capture_output=True,
    )
    assert failed.returncode == 1 and b"File too large" in failed.stderr
    assert path.read_bytes() == whole
    child = subprocess.run(
        [sys.executable, "-c", APPEND_CUT_OFF, str(ledger), str(limit), "killed"],
        capture_output=True,
    )
    assert child.returncode == -signal.SIGXFSZ, child.stderr
    assert path.read_bytes()[: len(whole)] == whole and path.stat().st_size == limit
    report = api.verify_ledger(ledger)
    assert report.status == "torn" and report.records == 2
    assert report.torn is not None
    assert (report.torn.offset, report.torn.size) == (len(whole), 1000)
    with pytest.raises(UsageError, match=f"1,000 byte\\(s\\) from offset {len(whole):,}"):
        append_run(ledger, _facts(tmp_path, 3, inputs=30), None)
    record = append_run(ledger, _facts(tmp_path, 3, inputs=30), None, repair=True)
    assert record["repair"]["size"] == 1000
    assert api.verify_ledger(ledger).status == "unsigned"  # whole again, nothing broken
