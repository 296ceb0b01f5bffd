"""`borderwatch attest`: a reviewer makes a key, signs a model store's files, and a scan
trusting that key finds the store reviewed until a file changes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch.cli import main

POLICY_HEAD = """\
borderwatch: policy/v1
name: attest-test
version: "1"
data_classes:
  us_user_data:
    storage: {approved: [{country: US}]}
coverage:
  nothing_judged: info
"""


def _keygen(tmp_path: Path, algorithm: str, env: dict[str, str] | None = None) -> str:
    args = ["attest", "keygen", "--algorithm", algorithm, "--out", str(tmp_path / "reviewer")]
    args += ["--reviewer", "Independent Reviewer"]
    if env:
        args += ["--password-env", "REVIEWER_PASSWORD"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _policy(tmp_path: Path, keygen_output: str) -> Path:
    entry = keygen_output.split("policy entry (oversight.trusted_reviewers):\n", 1)[1]
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_HEAD + "oversight:\n  trusted_reviewers:\n" + entry)
    return path


def _store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    (store / "ranker").mkdir(parents=True)
    (store / "ranker" / "weights.bin").write_bytes(bytes(range(256)) * 5000)
    (store / "ranker" / "config.json").write_text('{"layers": 12}\n')
    return store


def _scan(tmp_path: Path, policy: Path, store: Path, review: Path) -> list[dict]:
    out = tmp_path / "out"
    args = ["scan", "--policy", str(policy), "--out", str(out), "--quiet"]
    args += ["--model-store", str(store), "--attestations", str(review)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    return [
        f
        for f in json.loads((out / "findings.json").read_text())
        if f["rule"] != ("coverage.nothing-judged")
    ]


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p256"])
def test_a_signed_store_passes_until_a_file_changes(tmp_path: Path, algorithm: str) -> None:
    output = _keygen(tmp_path, algorithm)
    key = tmp_path / "reviewer.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "BEGIN PRIVATE KEY" in key.read_text()
    policy = _policy(tmp_path, output)
    store = _store(tmp_path)
    review = tmp_path / "review.json"
    files = [str(p) for p in sorted(store.rglob("*")) if p.is_file()]
    args = ["attest", "sign", "--key", str(key), "--decision", "approved"]
    args += ["--reviewer", "Independent Reviewer", "--expires", "2999-01-01", "--root", str(store)]
    args += [x for f in files for x in ("--file", f)]
    args += ["--out", str(review)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "2 subject(s)" in result.output

    assert _scan(tmp_path, policy, store, review) == []

    (store / "ranker" / "config.json").write_text('{"layers": 13}\n')
    findings = _scan(tmp_path, policy, store, review)
    assert [(f["rule"], f["resource"].split("@")[0]) for f in findings] == [
        ("integrity.modified-after-review", "ranker/config.json")
    ]


def test_an_encrypted_key_needs_its_password(tmp_path: Path) -> None:
    env = {"REVIEWER_PASSWORD": "correct horse"}
    _keygen(tmp_path, "ed25519", env)
    assert "ENCRYPTED" in (tmp_path / "reviewer.key").read_text()
    base = ["attest", "sign", "--key", str(tmp_path / "reviewer.key"), "--decision", "approved"]
    base += ["--reviewer", "R", "--expires", "2999-01-01", "--out", str(tmp_path / "r.json")]
    base += ["--subject", "registry.example/app@sha256:" + "a" * 64]
    refused = CliRunner().invoke(main, base)
    assert refused.exit_code == 2
    assert "signing key cannot be used" in refused.output
    wrong = CliRunner().invoke(main, [*base, "--password-env", "P"], env={"P": "wrong horse"})
    assert wrong.exit_code == 2
    signed = CliRunner().invoke(main, [*base, "--password-env", "REVIEWER_PASSWORD"], env=env)
    assert signed.exit_code == 0, signed.output
    envelope = json.loads((tmp_path / "r.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    again = CliRunner().invoke(main, [*base, "--password-env", "REVIEWER_PASSWORD"], env=env)
    assert again.exit_code == 2 and "exists" in again.output
    assert json.loads((tmp_path / "r.json").read_text()) == envelope


def test_bad_inputs_are_refused_with_what_is_wrong(tmp_path: Path) -> None:
    _keygen(tmp_path, "ed25519")
    again = CliRunner().invoke(
        main, ["attest", "keygen", "--out", str(tmp_path / "reviewer"), "--reviewer", "R"]
    )
    assert again.exit_code == 2 and "exists" in again.output
    base = ["attest", "sign", "--key", str(tmp_path / "reviewer.key"), "--decision", "approved"]
    base += ["--reviewer", "R", "--out", str(tmp_path / "r.json")]
    cases = {
        "is not NAME@sha256": ["--expires", "2999-01-01", "--subject", "app:latest"],
        "before the review date": [
            "--expires",
            "2020-01-01",
            "--date",
            "2021-01-01",
            "--subject",
            "app@sha256:" + "b" * 64,
        ],
        "needs at least one subject": ["--expires", "2999-01-01"],
        "is not inside --root": [
            "--expires",
            "2999-01-01",
            "--root",
            str(tmp_path / "store"),
            "--file",
            str(tmp_path / "reviewer.pub"),
        ],
    }
    (tmp_path / "store").mkdir()
    for message, extra in cases.items():
        result = CliRunner().invoke(main, [*base, *extra])
        assert result.exit_code == 2, (message, result.output)
        assert message in result.output, result.output
    assert not (tmp_path / "r.json").exists()
