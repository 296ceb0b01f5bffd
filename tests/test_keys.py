"""`borderwatch keygen` and `borderwatch attest keygen` make the same kind of Ed25519 key
through the same code: either command's key signs a ledger and a review
(evidence/signing.py, commands/keygen.py, commands/attest.py, docs/evidence.md Keys)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from borderwatch import api
from borderwatch.cli import main
from borderwatch.evidence.signing import load_public_key, load_signing_key
from borderwatch.inventory.dsse import pae
from borderwatch.model.oversight import key_id
from ledgerkit import build_tree


def _review(key: Path, out: Path, tmp_path: Path) -> dict[str, object]:
    subject = tmp_path / "weights.bin"
    subject.write_bytes(b"model weights\n")
    args = ["attest", "sign", "--key", str(key), "--decision", "approved", "--reviewer", "R"]
    args += ["--expires", "2999-01-01", "--file", str(subject), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    envelope = json.loads(out.read_text())
    assert isinstance(envelope, dict)
    return envelope


def _holds(envelope: dict[str, object], public: Path) -> None:
    key = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    (signature,) = envelope["signatures"]  # type: ignore[misc]
    body = base64.b64decode(str(envelope["payload"]))
    key.verify(base64.b64decode(signature["sig"]), pae(str(envelope["payloadType"]), body))


def test_either_key_command_makes_a_key_the_other_can_use(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["keygen", "--out", str(tmp_path / "ledger.pem")])
    assert made.exit_code == 0, made.output
    args = ["attest", "keygen", "--algorithm", "ed25519", "--out", str(tmp_path / "reviewer")]
    attest = runner.invoke(main, [*args, "--reviewer", "R"])
    assert attest.exit_code == 0, attest.output
    for private, public in (
        (tmp_path / "ledger.pem", tmp_path / "ledger.pem.pub"),
        (tmp_path / "reviewer.key", tmp_path / "reviewer.pub"),
    ):
        # The same files: PKCS#8 PEM readable by its owner only, SubjectPublicKeyInfo PEM.
        assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
        assert load_signing_key(private).public == load_public_key(public)
        # Either signs a review...
        _holds(_review(private, tmp_path / f"{private.stem}.review.json", tmp_path), public)
        # ...and a ledger.
        base = tmp_path / f"tree-{private.stem}"
        ledger = build_tree(base, private, runs=1)
        assert api.verify_ledger(ledger, public).status == "verified"
    # The attest entry's key id and the ledger's fingerprint are two names of one key.
    keyid = key_id((tmp_path / "reviewer.pub").read_text())
    assert f"key id {keyid}" in attest.output
    assert load_public_key(tmp_path / "reviewer.pub").fingerprint != keyid


def test_neither_command_overwrites_a_key(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["attest", "keygen", "--out", str(tmp_path / "reviewer"), "--reviewer", "R"]
    assert runner.invoke(main, args).exit_code == 0
    before = (tmp_path / "reviewer.key").read_bytes()
    again = runner.invoke(main, args)
    assert again.exit_code == 2 and "exists" in again.output and "--force" not in again.output
    assert (tmp_path / "reviewer.key").read_bytes() == before
    (tmp_path / "k.pem.pub").write_text("someone's public key\n")
    kept = runner.invoke(main, ["keygen", "--out", str(tmp_path / "k.pem")])
    assert kept.exit_code == 2 and "--force" in kept.output
    assert not (tmp_path / "k.pem").exists()
