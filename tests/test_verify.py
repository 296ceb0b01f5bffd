"""`borderwatch verify DIR`: every kind of tampering with a ledger folder is found and
named, and an untouched folder verifies clean (evidence/ledger_verify.py).

The tamper tests are systematic: a byte flipped at the start, middle and end of every
file the ledger vouches for (and at any place, by hypothesis), every file deleted, every
record deleted, every pair of records swapped, the ledger cut at every record boundary
and inside records, the key swapped, the records re-signed by another key or unsigned.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch import api
from borderwatch.cli import main
from ledgerkit import build_tree, evidence_files, make_keys

LEDGER = "ledger/ledger.jsonl"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, keys: tuple[Path, Path]) -> Path:
    """Three signed scans, each into its own output folder. Tests that change it put
    every byte back before they end (restored())."""
    base = tmp_path_factory.mktemp("tree")
    build_tree(base, keys[0])
    return base


@contextmanager
def restored(path: Path) -> Iterator[bytes]:
    """The file's bytes; whatever the block does to the file is undone after it."""
    original = path.read_bytes()
    try:
        yield original
    finally:
        path.write_bytes(original)


def _verify(base: Path, public: Path | None, head: str | None = None) -> api.LedgerReport:
    return api.verify_ledger(base / "ledger", public, head)


def _named(report: api.LedgerReport, base: Path, path: Path) -> bool:
    """Whether a break names `path` (by the path its record keeps, or as the ledger)."""
    if path.name == "ledger.jsonl":
        return report.torn is not None or any(
            b.record is not None or b.file is None for b in report.breaks
        )
    recorded = Path("..") / path.relative_to(base)
    return any(b.file is not None and b.file.endswith(str(recorded)) for b in report.breaks)


def _flipped(original: bytes, offset: int, xor: int) -> bytes:
    """`original` with the byte at `offset` changed; an empty file gets a byte instead
    (quarantine.jsonl of a scan that quarantined nothing)."""
    if not original:
        return bytes([xor])
    changed = bytearray(original)
    changed[offset] ^= xor
    return bytes(changed)


def test_an_untouched_folder_verifies_clean_even_when_moved(
    tree: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    assert _verify(tree, keys[1]).status == "verified"
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tree, moved)
    report = _verify(moved, keys[1], head=_verify(tree, keys[1]).head)
    assert report.breaks == [] and report.status == "verified"
    result = CliRunner().invoke(main, ["verify", str(moved / "ledger"), "--key", str(keys[1])])
    assert result.exit_code == 0 and "VERIFIED" in result.output


def test_a_flipped_byte_in_every_file_is_found_and_named(
    tree: Path, keys: tuple[Path, Path]
) -> None:
    files = evidence_files(tree)
    kinds = {path.suffix for path in files}
    # Every kind of file the ledger vouches for: inputs, outputs and the ledger itself.
    assert {".yaml", ".json", ".jsonl", ".html", ".sarif", ".csv"} <= kinds
    checked = 0
    for path in files:
        with restored(path) as original:
            for offset in sorted({0, len(original) // 2, max(len(original) - 1, 0)}):
                path.write_bytes(_flipped(original, offset, 0x01))
                report = _verify(tree, keys[1])
                assert report.status == "tampered", (path, offset)
                assert _named(report, tree, path), (path, offset, [str(b) for b in report.breaks])
                checked += 1
    assert checked >= 2 * len(files)
    assert _verify(tree, keys[1]).breaks == []


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_byte_changed_anywhere_is_found(
    tree: Path, keys: tuple[Path, Path], data: st.DataObject
) -> None:
    files = evidence_files(tree)
    path = data.draw(st.sampled_from(files), label="file")
    with restored(path) as original:
        offset = data.draw(st.integers(0, max(len(original) - 1, 0)), label="offset")
        flip = data.draw(st.integers(1, 255), label="xor")
        path.write_bytes(_flipped(original, offset, flip))
        report = _verify(tree, keys[1])
        # The end of line of the last record changed to another printable byte reads
        # as a torn record (what a killed append leaves): never as verified.
        torn = path.name == "ledger.jsonl" and offset == len(original) - 1
        assert report.status == "tampered" or (torn and report.status == "torn")
        assert _named(report, tree, path)


def test_every_file_deleted_is_found_as_missing(tree: Path, keys: tuple[Path, Path]) -> None:
    for path in evidence_files(tree):
        if path.name == "ledger.jsonl":
            continue  # without it there is no ledger: a usage error (below)
        with restored(path):
            path.unlink()
            report = _verify(tree, keys[1])
            assert report.status == "tampered"
            missing = [b for b in report.breaks if b.what == "missing"]
            assert len(missing) == 1 and _named(report, tree, path), path
            assert missing[0].actual == "no such file" and "sha256" in str(missing[0].expected)


def _records(tree: Path) -> list[bytes]:
    return (tree / LEDGER).read_bytes().splitlines(keepends=True)


def test_every_record_deleted_and_every_pair_swapped_is_found(
    tree: Path, keys: tuple[Path, Path]
) -> None:
    lines = _records(tree)
    assert len(lines) == 3
    ledger = tree / LEDGER
    head = _verify(tree, keys[1]).head
    with restored(ledger):
        for index in range(len(lines)):
            ledger.write_bytes(b"".join(lines[:index] + lines[index + 1 :]))
            # The last record deleted leaves a whole chain: only the expected head finds it.
            report = _verify(tree, keys[1], head=head)
            assert report.status == "tampered", f"record {index + 1} deleted"
            if index < len(lines) - 1:
                assert _verify(tree, keys[1]).status == "tampered", f"record {index + 1}"
        for first in range(len(lines)):
            for second in range(first + 1, len(lines)):
                swapped = list(lines)
                swapped[first], swapped[second] = swapped[second], swapped[first]
                ledger.write_bytes(b"".join(swapped))
                report = _verify(tree, keys[1])
                assert report.status == "tampered", (first, second)
                assert any("reordered" in b.what or "chain" in b.what for b in report.breaks)
        ledger.write_bytes(b"".join([*lines, lines[1]]))  # a record repeated
        assert _verify(tree, keys[1]).status == "tampered"


def test_a_ledger_cut_anywhere_is_found(tree: Path, keys: tuple[Path, Path]) -> None:
    """Cut inside a record: found by itself. Cut at a record boundary: the records left
    are a whole chain, so only the expected head (--head, e.g. from a board report) can
    tell; with it, every cut is found."""
    ledger = tree / LEDGER
    head = _verify(tree, keys[1]).head
    assert head is not None
    with restored(ledger) as original:
        boundaries = {index + 1 for index, byte in enumerate(original) if byte == 0x0A}
        rng = random.Random(5)
        inside = rng.sample(sorted(set(range(1, len(original))) - boundaries), 40)
        for size in inside:
            ledger.write_bytes(original[:size])
            report = _verify(tree, keys[1])
            # A line cut short is what a scan killed while appending leaves: said as a
            # torn record, where it starts and how long it is (exit 1, never verified).
            start = max((b for b in boundaries if b <= size), default=0)
            assert report.status == "torn", size
            assert report.torn is not None
            assert (report.torn.offset, report.torn.size) == (start, size - start)
            assert report.records == original[:start].count(b"\n")
            with_head = _verify(tree, keys[1], head=head)
            assert with_head.status == "tampered" and with_head.torn == report.torn
        # Cut just before an end of line: a whole record without it is not a kill's work.
        for end in sorted(boundaries):
            ledger.write_bytes(original[: end - 1])
            assert _verify(tree, keys[1]).status == "tampered", end
        for size in [0, *sorted(boundaries - {len(original)})]:
            ledger.write_bytes(original[:size])
            report = _verify(tree, keys[1], head=head)
            assert report.status == "tampered", size
            assert any("expected head" in b.what or "no record" in b.what for b in report.breaks)
        ledger.write_bytes(b"")
        assert _verify(tree, keys[1]).status == "tampered"  # an empty ledger is never written


def _canonical(value: dict[str, object]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _rewritten(lines: list[bytes], key: Ed25519PrivateKey | None) -> bytes:
    """The records re-chained as a forger would: hashes recomputed, signed by `key` (or
    unsigned), so every hash and link is consistent."""
    out: list[bytes] = []
    previous = None
    for line in lines:
        record = json.loads(line)
        record["scan"]["verdict"] = "pass"  # the forger's change
        record["previous"] = previous
        body = {k: v for k, v in record.items() if k not in ("hash", "signature")}
        if key is None:
            body["key"] = None
        else:
            raw = key.public_key().public_bytes_raw()
            body["key"] = {
                "algorithm": "ed25519",
                "public_key": base64.b64encode(raw).decode(),
                "fingerprint": hashlib.sha256(raw).hexdigest(),
            }
        data = _canonical(body)
        record = {
            **body,
            "hash": hashlib.sha256(data).hexdigest(),
            "signature": None if key is None else base64.b64encode(key.sign(data)).decode(),
        }
        previous = record["hash"]
        out.append(_canonical(record) + b"\n")
    return b"".join(out)


def test_swapped_keys_and_forged_signatures_are_found(
    tree: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger = tree / LEDGER
    _, other_public = make_keys(tmp_path / "other")
    # The right ledger, the wrong key: no record holds.
    report = _verify(tree, other_public)
    assert report.status == "tampered"
    assert {b.record for b in report.breaks if "signature does not hold" in b.what} == {1, 2, 3}
    lines = _records(tree)
    with restored(ledger):
        # Re-signed by a forger's key with every hash consistent: the key given refuses it.
        ledger.write_bytes(_rewritten(lines, Ed25519PrivateKey.generate()))
        report = _verify(tree, keys[1])
        assert report.status == "tampered"
        assert {b.record for b in report.breaks} == {1, 2, 3}
        # Without --key the forged chain is consistent: verify says whose key it is, which
        # is not the owner's (docs/evidence.md: pin the key).
        alone = _verify(tree, None)
        assert alone.status == "verified" and not alone.key_pinned
        assert alone.fingerprint != _verify_fingerprint(keys[1])
        # Signatures stripped, chain recomputed: unsigned after signing is refused.
        ledger.write_bytes(_rewritten(lines, None))
        assert _verify(tree, keys[1]).status == "tampered"
        stripped = CliRunner().invoke(main, ["verify", str(tree / "ledger")])
        assert stripped.exit_code == 1 and "UNSIGNED" in stripped.output
        allowed = CliRunner().invoke(main, ["verify", str(tree / "ledger"), "--allow-unsigned"])
        assert allowed.exit_code == 0
        # One forged unsigned record appended to the signed ledger.
        ledger.write_bytes(b"".join(lines) + _rewritten(lines, None).splitlines(True)[0])
        assert _verify(tree, None).status == "tampered"
        # A key change midway: the last record re-signed by another key.
        forged = _rewritten(lines, Ed25519PrivateKey.generate()).splitlines(True)[2]
        ledger.write_bytes(b"".join(lines[:2]) + forged)
        assert any("another key" in b.what for b in _verify(tree, None).breaks)


def _verify_fingerprint(public: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(key, type(Ed25519PrivateKey.generate().public_key()))
    return hashlib.sha256(key.public_bytes_raw()).hexdigest()


def test_verify_names_each_broken_link_and_exits_1(tree: Path, keys: tuple[Path, Path]) -> None:
    target = tree / "out2" / "findings.json"
    with restored(target) as original:
        target.write_bytes(original + b" ")
        result = CliRunner().invoke(main, ["verify", str(tree / "ledger"), "--key", str(keys[1])])
    assert result.exit_code == 1
    expected = hashlib.sha256(original).hexdigest()
    line = next(line for line in result.output.splitlines() if line.startswith("BROKEN"))
    assert "record 2" in line and "../out2/findings.json" in line and "content changed" in line
    assert expected in line and "found sha256" in line
    assert "TAMPERED: 1 broken link(s)" in result.output
    bad_key = CliRunner().invoke(
        main, ["verify", str(tree / "ledger"), "--key", str(tree / "inputs" / "policy.yaml")]
    )
    assert bad_key.exit_code == 2


def test_a_forged_record_with_hostile_values_is_reported_not_crashed_on(
    tree: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """A ledger is input too: deep nesting, a NUL in a path, a FIFO, wrong types and
    terminal escapes are broken links printed as text, never a crash or a hang."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    ledger = tree / LEDGER
    lines = _records(tree)
    forged = json.loads(lines[2])
    forged["inputs"] = [
        {"path": "bad\x00name", "sha256": "0" * 64, "size": 1},
        {"path": str(fifo), "sha256": "0" * 64, "size": 1},
        {"path": "\x1b[2Jevil", "sha256": "0" * 64, "size": 1},
        7,
    ]
    forged["key"] = ["not", "a", "key"]
    with restored(ledger):
        ledger.write_bytes(
            b"".join(lines[:2]) + _canonical(forged) + b"\n" + b"[" * 100_000 + b"\n"
        )
        report = _verify(tree, keys[1])
        assert report.status == "tampered"
        whats = [str(b) for b in report.breaks]
        assert any("not a regular file" in w for w in whats)
        assert any("cannot be read" in w for w in whats)
        assert any("names no file" in w for w in whats)
        assert any(b.record == 4 and "not a JSON record" in b.what for b in report.breaks)
        result = CliRunner().invoke(main, ["verify", str(tree / "ledger")])
        assert result.exit_code == 1
        assert "\x1b" not in result.output
