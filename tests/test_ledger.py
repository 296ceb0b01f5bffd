"""The evidence ledger as a scan writes it: every field, keys, refusals, crash safety and
concurrent scans (evidence/ledger.py, evidence/signing.py, docs/evidence.md)."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from borderwatch import api
from borderwatch.cli import main
from borderwatch.evidence.ledger import LEDGER_FILE, FileRef, RunFacts, append_run
from borderwatch.evidence.signing import load_signing_key
from ledgerkit import CASE, build_tree, make_keys, scan_into

OUTPUTS = {
    "findings.json",
    "summary.json",
    "quarantine.jsonl",
    "report.html",
    "findings.sarif",
    "residency.csv",
    "findings.csv",
}


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Three signed runs: (the tree's base folder, the public key file)."""
    keys = tmp_path_factory.mktemp("keys")
    private, public = make_keys(keys)
    base = tmp_path_factory.mktemp("tree")
    build_tree(base, private)
    return base, public


def _lines(ledger: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (ledger / LEDGER_FILE).read_bytes().splitlines()]


def _canonical(value: dict[str, object]) -> bytes:
    # Written out here rather than imported: the test states the format docs/evidence.md
    # gives, so a change to the code's encoding fails it.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def test_every_record_holds_what_its_run_read_and_wrote(signed: tuple[Path, Path]) -> None:
    base, public = signed
    records = _lines(base / "ledger")
    assert [r["record"] for r in records] == [1, 2, 3]
    key = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    previous = None
    for number, record in enumerate(records, start=1):
        body = {k: v for k, v in record.items() if k not in ("hash", "signature")}
        assert record["hash"] == hashlib.sha256(_canonical(body)).hexdigest()
        key.verify(base64.b64decode(str(record["signature"])), _canonical(body))
        assert record["previous"] == previous
        previous = record["hash"]
        assert record["format"] == "borderwatch-ledger/1"
        assert record["tool"] == {"name": "borderwatch", "version": api.__version__}
        # The outputs are the files that ended in this run's folder, by relative path.
        out = base / f"out{number}"
        outputs = {Path(str(o["path"])).name: o for o in record["outputs"]}  # type: ignore[union-attr]
        assert (
            set(outputs)
            == OUTPUTS
            == {p.name for p in out.iterdir() if p.is_file()}
            - {".borderwatch.lock", ".borderwatch-ledger"}
        )
        for name, entry in outputs.items():
            assert entry["path"] == f"../out{number}/{name}"
            data = (out / name).read_bytes()
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
            assert entry["size"] == len(data)
        inputs = {str(i["path"]): i for i in record["inputs"]}  # type: ignore[union-attr]
        assert set(inputs) == {
            "../inputs/policy.yaml",
            "../inputs/inventory.yaml",
            "../inputs/identities.yaml",
            "../inputs/events/trail.json",
        }
        for path, entry in inputs.items():
            data = (base / "ledger" / path).read_bytes()
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        summary = json.loads((out / "summary.json").read_text())
        assert record["data_versions"] == summary["data_versions"]
        assert (
            record["policy"]["sha256"]
            == hashlib.sha256(  # type: ignore[index]
                (base / "inputs" / "policy.yaml").read_bytes()
            ).hexdigest()
        )
        assert record["scan"]["verdict"] == summary["verdict"]  # type: ignore[index]


def test_an_untouched_signed_ledger_verifies_clean(signed: tuple[Path, Path]) -> None:
    base, public = signed
    result = CliRunner().invoke(main, ["verify", str(base / "ledger"), "--key", str(public)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output
    report = api.verify_ledger(base / "ledger", public)
    assert report.breaks == [] and report.records == report.signed == 3
    # Three output folders and the four inputs (named by every record; checked once).
    assert report.files_checked == 3 * len(OUTPUTS) + 4
    assert report.superseded == 2 * 4


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    out = tmp_path / "keys" / "signing.pem"
    first = runner.invoke(main, ["keygen", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert Path(f"{out}.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    key = load_signing_key(out)
    before = out.read_bytes()
    again = runner.invoke(main, ["keygen", "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output
    assert out.read_bytes() == before
    forced = runner.invoke(main, ["keygen", "--out", str(out), "--force"])
    assert forced.exit_code == 0
    assert load_signing_key(out).public != key.public
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def _scan_args(base: Path, out: str, *extra: str) -> list[str]:
    inputs = base / "inputs"
    return [
        "scan",
        "--policy",
        str(inputs / "policy.yaml"),
        "--inventory",
        str(inputs / "inventory.yaml"),
        "--identities",
        str(inputs / "identities.yaml"),
        "--events",
        str(inputs / "events"),
        "--out",
        str(base / out),
        "--quiet",
        *extra,
    ]


def test_a_signed_ledger_refuses_an_unsigned_record_and_another_key(tmp_path: Path) -> None:
    private, _ = make_keys(tmp_path / "keys")
    other, _ = make_keys(tmp_path / "keys", "other.pem")
    base = tmp_path / "tree"
    ledger = build_tree(base, private, runs=1)
    before = (ledger / LEDGER_FILE).read_bytes()
    runner = CliRunner()
    unsigned = runner.invoke(main, _scan_args(base, "outx", "--ledger", str(ledger)))
    assert unsigned.exit_code == 2
    assert "is signed" in unsigned.output and "--sign-key" in unsigned.output
    wrong = runner.invoke(
        main, _scan_args(base, "outy", "--ledger", str(ledger), "--sign-key", str(other))
    )
    assert wrong.exit_code == 2 and "not by the --sign-key given" in wrong.output
    # Refused before anything was read or written.
    assert not (base / "outx").exists() and not (base / "outy").exists()
    assert (ledger / LEDGER_FILE).read_bytes() == before
    # An unsigned ledger may be signed from now on.
    plain = tmp_path / "plain"
    plain_ledger = build_tree(plain, None, runs=1)
    ok = runner.invoke(
        main, _scan_args(plain, "out2", "--ledger", str(plain_ledger), "--sign-key", str(private))
    )
    assert ok.exit_code == 0, ok.output
    records = _lines(plain_ledger)
    assert records[0]["signature"] is None and records[1]["signature"] is not None


def test_bad_ledger_arguments_are_refused_with_exit_2(tmp_path: Path) -> None:
    base = tmp_path / "tree"
    ledger = build_tree(base, None, runs=1)
    runner = CliRunner()
    alone = runner.invoke(main, _scan_args(base, "o1", "--sign-key", str(tmp_path / "k")))
    assert alone.exit_code == 2 and "--ledger" in alone.output
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello\n")
    bad = runner.invoke(
        main, _scan_args(base, "o2", "--ledger", str(ledger), "--sign-key", str(not_a_key))
    )
    assert bad.exit_code == 2 and "not an unencrypted PEM private key" in bad.output
    # A ledger cut in its last line is never chained onto.
    path = ledger / LEDGER_FILE
    path.write_bytes(path.read_bytes()[:-20])
    cut = runner.invoke(main, _scan_args(base, "o3", "--ledger", str(ledger)))
    assert cut.exit_code == 2 and "ends in a torn record" in cut.output
    missing = runner.invoke(main, ["verify", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "ledger.jsonl" in missing.output


def _facts(tmp: Path, number: int) -> RunFacts:
    file = tmp / f"input-{number % 3}.txt"
    return RunFacts(
        tool_version="test",
        policy={"name": "p", "version": "1", "sha256": "0" * 64},
        scan={"verdict": "pass", "run": number},
        data_versions={"ip": "x"},
        inputs=[FileRef(str(file), "events")],
        outputs=[],
    )


def _append_many(folder: str, key_file: str, count: int) -> None:
    key = load_signing_key(Path(key_file))
    for number in range(count):
        append_run(Path(folder), _facts(Path(folder).parent, number), key)


def test_concurrent_scans_append_one_after_the_other(tmp_path: Path) -> None:
    private, public = make_keys(tmp_path / "keys")
    for index in range(3):
        (tmp_path / f"input-{index}.txt").write_text(f"input {index}\n")
    ledger = tmp_path / "ledger"
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_append_many, args=(str(ledger), str(private), 15)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    report = api.verify_ledger(ledger, public)
    assert report.breaks == [] and report.records == 60


def test_a_real_scan_appends_to_the_ledger_of_an_earlier_one(tmp_path: Path) -> None:
    """--ledger on its own: a second scan's record chains onto the first's."""
    private, public = make_keys(tmp_path / "keys")
    base = tmp_path / "tree"
    ledger = build_tree(base, private, runs=1)
    scan_into(base, 2, private)
    records = _lines(ledger)
    assert records[1]["previous"] == records[0]["hash"]
    assert api.verify_ledger(ledger, public).breaks == []
    assert os.path.isdir(CASE)


def test_an_input_that_cannot_be_read_again_is_recorded_and_listed_as_not_checked(
    tmp_path: Path,
) -> None:
    """Standard input and a file gone by the time of the record have no hash: the record
    says why, and verify lists them as not checked rather than passing them silently."""
    gone = tmp_path / "gone.json"
    facts = RunFacts(
        "test",
        {"name": "p"},
        {"verdict": "pass"},
        {},
        [FileRef("-", "events"), FileRef(str(gone), "events")],
        [],
    )
    record = append_run(tmp_path / "ledger", facts, None)
    entries = {entry["path"]: entry for entry in record["inputs"]}
    assert entries["-"]["sha256"] is None and "standard input" in entries["-"]["note"]
    assert entries["../gone.json"]["sha256"] is None
    assert "unreadable" in entries["../gone.json"]["note"]
    report = api.verify_ledger(tmp_path / "ledger")
    assert report.breaks == [] and report.status == "unsigned"
    assert len(report.unchecked) == 2
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "ledger"), "--allow-unsigned"])
    assert result.exit_code == 0
    assert result.output.count("not checked:") == 2
