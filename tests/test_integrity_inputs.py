"""The oversight inputs read as they come: real EKS audit logs, a model store in a folder
and in S3 (moto in server mode), hostile manifests and envelopes, and the policy section.
Every input is accounted (read = accepted + quarantined) and every bad part quarantined
with its position."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.collect.modelstore import read_model_store
from borderwatch.errors import PolicyError
from borderwatch.inventory.attestations import read_attestations
from borderwatch.inventory.manifests import read_manifests
from borderwatch.model.oversight import OversightRules, SignatureStatus, TrustedReviewer
from borderwatch.policy import load_policy
from borderwatch.sources.k8s_deploys import read_k8s_deploys
from oversightkit import REVIEWER_A, review, sha, trusted_policy_block

pytest_plugins = ("awsemu",)  # the moto server fixtures `aws_endpoint` and `aws`

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
EKS = REAL / "panther-analysis" / "rule-test-logs" / "Amazon.EKS.Audit.jsonl"


def test_images_of_real_eks_audit_logs() -> None:
    read = read_k8s_deploys(EKS)
    assert read.records_read == 188 == read.accepted + len(read.quarantined)
    images = {(a.namespace, a.reference) for a in read.artifacts}
    # Pods, a cron job and a deployment created in the sample, by tag (no digest).
    assert ("default", "backup:latest") in images
    assert any(ref == "nginx" for _, ref in images)
    assert all(a.digest is None for a in read.artifacts if a.reference)
    cron = next(a for a in read.artifacts if a.reference == "backup:latest")
    assert cron.workload == "cronjobs/default/backup-job container=backup"
    assert cron.name == "backup" and cron.origin == "k8s-audit"


def test_a_model_store_folder_is_hashed_and_links_leaving_it_are_not(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "a" / "b").mkdir(parents=True)
    big = os.urandom(3 * 1024 * 1024 + 17)  # several 1 MiB chunks and a partial one
    (store / "a" / "b" / "model.bin").write_bytes(big)
    (store / "notes.txt").write_text("v1\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of the store")
    (store / "leak").symlink_to(outside)
    (store / "inside").symlink_to(store / "notes.txt")
    os.mkfifo(store / "pipe")  # would block a reader that opens it
    read = read_model_store(str(store))
    by_name = {a.name: a for a in read.artifacts}
    assert by_name["a/b/model.bin"].digest == hashlib.sha256(big).hexdigest()
    assert by_name["a/b/model.bin"].size == len(big)
    assert by_name["inside"].digest == hashlib.sha256(b"v1\n").hexdigest()
    assert set(by_name) == {"a/b/model.bin", "notes.txt", "inside"}
    reasons = {Path(q.input_path).name: q.reason for q in read.quarantined}
    assert "leaves the store" in reasons["leak"]
    assert "not a regular file" in reasons["pipe"]
    assert read.records_read == 5 == read.accepted + len(read.quarantined)


def test_a_model_store_in_s3(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="models")
    big = os.urandom(5 * 1024 * 1024 + 3)
    s3.put_object(Bucket="models", Key="prod/ranker/weights.bin", Body=big)
    s3.put_object(Bucket="models", Key="prod/ranker/", Body=b"")  # a folder marker
    s3.put_object(Bucket="models", Key="prod/config.json", Body=b"{}")
    s3.put_object(Bucket="models", Key="staging/other.bin", Body=b"not in the prefix")
    read = read_model_store("s3://models/prod")
    assert {(a.name, a.digest, a.reference) for a in read.artifacts} == {
        (
            "ranker/weights.bin",
            hashlib.sha256(big).hexdigest(),
            "s3://models/prod/ranker/weights.bin",
        ),
        ("config.json", hashlib.sha256(b"{}").hexdigest(), "s3://models/prod/config.json"),
    }
    assert read.records_read == 2 == read.accepted
    missing = read_model_store("s3://no-such-bucket/x")
    assert missing.quarantined and "NoSuchBucket" in missing.quarantined[0].reason


def test_hostile_manifests_are_quarantined_with_their_line(tmp_path: Path) -> None:
    laughs = tmp_path / "laughs.yaml"
    rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for index in range(1, 9):
        rows.append(
            f"{chr(97 + index)}: &{chr(97 + index)} [{','.join(['*' + chr(96 + index)] * 9)}]"
        )
    laughs.write_text("\n".join(rows) + "\n")
    read = read_manifests(laughs)
    assert read.artifacts == [] and len(read.quarantined) == 1
    assert "aliases" in read.quarantined[0].reason
    assert read.quarantined[0].position.startswith("line ")

    deep = tmp_path / "deep.yaml"
    deep.write_text("spec: " + "[" * 500 + "]" * 500 + "\n")
    assert "nested more than" in read_manifests(deep).quarantined[0].reason

    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00kind: Pod")
    assert "cannot read" in read_manifests(binary).quarantined[0].reason


def test_bad_envelopes_are_quarantined_and_the_good_ones_kept(tmp_path: Path) -> None:
    good = review([("registry.example/app", sha("app"))], REVIEWER_A)
    statement = dict(good)
    lines = [
        json.dumps(good),
        "not json {",
        json.dumps({**statement, "payloadType": "text/plain"}),
        json.dumps({**statement, "payload": "%%%"}),
        json.dumps({"payload": "e30="}),
        json.dumps({**statement, "signatures": [{"keyid": "k"}]}),
        json.dumps(review([("app", "not-a-digest" * 6)], REVIEWER_A)),
    ]
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(lines) + "\n")
    rules = OversightRules(
        trusted_reviewers=(
            TrustedReviewer(
                reviewer="A", public_key=REVIEWER_A.public_key().public_bytes(*_pem_spki()).decode()
            ),
        )
    )
    read = read_attestations(path, rules)
    assert [item.signature for item in read.items] == [SignatureStatus.VERIFIED]
    reasons = {q.position: q.reason for q in read.quarantined}
    assert set(reasons) == {f"line {n}" for n in range(2, 8)}
    assert "invalid JSON" in reasons["line 2"]
    assert "text/plain" in reasons["line 3"]
    assert "base64" in reasons["line 4"]
    assert "payloadType and payload" in reasons["line 5"]
    assert "no sig" in reasons["line 6"]
    assert "sha256 digest" in reasons["line 7"]


def test_a_subject_without_sha256_is_quarantined_alone_and_the_others_kept(
    tmp_path: Path,
) -> None:
    """A review of a build and of the source commit it came from: the commit (gitCommit,
    no sha256) cannot be matched to what runs, so it alone is quarantined; the build's
    approval, signed in the same envelope, still counts. An envelope of commits only
    carries nothing to match and is quarantined whole."""
    from borderwatch.inventory.reviewsign import review_statement, sign_statement

    def signed(subjects: list[dict[str, object]]) -> dict[str, object]:
        statement = review_statement(
            [("placeholder", sha("x"))],
            decision="approved",
            reviewer="Reviewer A",
            scope="production",
            date=dt.date(2026, 6, 1),
            expires=dt.date(2026, 12, 1),
        )
        edited = {**json.loads(statement), "subject": subjects}
        return sign_statement(json.dumps(edited, sort_keys=True).encode(), REVIEWER_A)

    commit = {"name": "git+https://example/recs", "digest": {"gitCommit": "a" * 40}}
    build = {"name": "registry.example/app", "digest": {"sha256": sha("app")}}
    path = tmp_path / "reviews.jsonl"
    path.write_text(json.dumps(signed([build, commit])) + "\n" + json.dumps(signed([commit])))
    rules = OversightRules(
        trusted_reviewers=(
            TrustedReviewer(
                reviewer="A", public_key=REVIEWER_A.public_key().public_bytes(*_pem_spki()).decode()
            ),
        )
    )
    read = read_attestations(path, rules)
    assert [(i.name, i.signature) for i in read.items] == [
        ("registry.example/app", SignatureStatus.VERIFIED)
    ]
    reasons = {q.position: q.reason for q in read.quarantined}
    assert set(reasons) == {"line 1 subject 2", "line 2"}
    assert "has no sha256 digest (it names gitCommit)" in reasons["line 1 subject 2"]
    assert "gitCommit" in reasons["line 2"]


def _pem_spki() -> tuple:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


def test_the_policy_refuses_a_key_it_cannot_use_with_its_line(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(*_pem_spki())
        .decode()
    )
    head = (
        'borderwatch: policy/v1\nname: p\nversion: "1"\ndata_classes:\n  d:\n'
        "    storage: {approved: [{country: US}]}\n"
    )
    for key, message in ((rsa_pem, "Ed25519 and ECDSA P-256"), ("garbage\n", "PEM public key")):
        path = tmp_path / "policy.yaml"
        block = "".join(f"        {line}\n" for line in key.splitlines())
        path.write_text(
            head + "oversight:\n  trusted_reviewers:\n    - reviewer: R\n"
            "      public_key: |\n" + block
        )
        with pytest.raises(PolicyError) as caught:
            load_policy(path)
        [problem] = caught.value.problems
        assert message in problem.message
        assert problem.location.line is not None and problem.location.line >= 10
    path.write_text(head + trusted_policy_block(["recs"]))
    policy = load_policy(path)
    assert [r.reviewer for r in policy.oversight.trusted_reviewers] == ["Reviewer A", "Reviewer B"]
    assert all(len(r.keyid) == 64 for r in policy.oversight.trusted_reviewers)


def test_hostile_names_stay_text_in_the_report(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'borderwatch: policy/v1\nname: p\nversion: "1"\ndata_classes:\n  d:\n'
        "    storage: {approved: [{country: US}]}\n" + trusted_policy_block(["recs"])
    )
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "kind: Pod\nmetadata: {namespace: recs, name: x}\nspec:\n  containers:\n"
        '    - {name: c, image: "evil/<script>alert(1)</script>:\\e[31mred"}\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["scan", "--policy", str(policy), "--deployments", str(manifest), "--out", str(out)],
    )
    assert result.exit_code == 1, result.output
    assert "\x1b[31m" not in result.output
    html = (out / "report.html").read_text()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_oversight_asked_for_without_evidence_of_what_runs_is_a_finding(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'borderwatch: policy/v1\nname: p\nversion: "1"\ndata_classes:\n  d:\n'
        "    storage: {approved: [{country: US}]}\n" + trusted_policy_block(["recs"])
    )
    reviews = tmp_path / "reviews.json"
    reviews.write_text(json.dumps(review([("app", sha("app"))], REVIEWER_A)))
    args = ["scan", "--policy", str(policy), "--attestations", str(reviews), "--quiet"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    [finding] = [f for f in findings if f["rule"].startswith("integrity.")]
    assert finding["rule"] == "integrity.unreviewed-unobserved"
    assert finding["evidence"] == {"reviews_read": 1, "artifacts_read": 0}
    # With a model store given (even an empty one), what runs was looked at.
    (tmp_path / "store").mkdir()
    result = CliRunner().invoke(
        main,
        [*args, "--model-store", str(tmp_path / "store"), "--out", str(tmp_path / "out2")],
    )
    findings = json.loads((tmp_path / "out2" / "findings.json").read_text())
    assert not [f for f in findings if f["rule"].startswith("integrity.")]


def test_an_unreviewed_model_running_fails_while_nothing_to_check_is_incomplete(
    tmp_path: Path,
) -> None:
    """Oversight violations are FAIL, not coverage gaps; oversight with no evidence of
    what runs is a coverage gap (INCOMPLETE), like the log-integrity rules."""
    from borderwatch import api

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'borderwatch: policy/v1\nname: p\nversion: "1"\ndata_classes:\n  d:\n'
        "    storage: {approved: [{country: US}]}\ncoverage:\n  nothing_judged: info\n"
        + trusted_policy_block(["recs"])
    )
    store = tmp_path / "store"
    store.mkdir()
    (store / "model.bin").write_bytes(b"weights nobody reviewed")
    running = api.scan(policy=policy, model_stores=[store], as_of=dt.date(2026, 6, 1))
    assert [f.rule for f in running.findings if f.rule.startswith("integrity.")] == [
        "integrity.unreviewed-artifact"
    ]
    assert running.verdict == "fail"
    unobserved = api.scan(policy=policy, as_of=dt.date(2026, 6, 1))
    assert [f.rule for f in unobserved.findings if f.rule.startswith("integrity.")] == [
        "integrity.unreviewed-unobserved"
    ]
    assert unobserved.verdict == "incomplete"


@pytest.mark.parametrize("scopes", [None, "[production]"])
def test_an_approval_counts_only_for_the_scopes_the_policy_names(
    tmp_path: Path, scopes: str | None
) -> None:
    """An approval for staging does not let a model run in production once the policy
    names the scopes that count; without approval_scopes any scope counts (as before).
    Scopes compare without regard to case or outer blanks; a rejection counts whatever
    its scope."""
    from borderwatch import api

    store = tmp_path / "store"
    store.mkdir()
    files = {"staged.bin": b"staging weights", "prod.bin": b"prod weights", "bad.bin": b"bad"}
    for name, body in files.items():
        (store / name).write_bytes(body)
    digest = {name: hashlib.sha256(body).hexdigest() for name, body in files.items()}
    envelopes = [
        review([("staged.bin", digest["staged.bin"])], REVIEWER_A, scope="staging"),
        review([("prod.bin", digest["prod.bin"])], REVIEWER_A, scope=" Production "),
        review([("bad.bin", digest["bad.bin"])], REVIEWER_A, scope="production"),
        review([("bad.bin", digest["bad.bin"])], REVIEWER_A, scope="qa", decision="rejected"),
    ]
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text("".join(json.dumps(e) + "\n" for e in envelopes))
    block = trusted_policy_block(["recs"])
    if scopes:
        block += f"  approval_scopes: {scopes}\n"
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'borderwatch: policy/v1\nname: p\nversion: "1"\ndata_classes:\n  d:\n'
        "    storage: {approved: [{country: US}]}\ncoverage:\n  nothing_judged: info\n" + block
    )
    result = api.scan(
        policy=policy, model_stores=[store], attestations=[reviews], as_of=dt.date(2026, 6, 1)
    )
    unreviewed = {
        f.resource.split("@")[0]: f.evidence["reason"]
        for f in result.findings
        if f.rule == "integrity.unreviewed-artifact" and f.resource
    }
    if scopes is None:
        assert unreviewed == {"bad.bin": "rejected by a trusted reviewer"}
    else:
        assert unreviewed == {
            "bad.bin": "rejected by a trusted reviewer",
            "staged.bin": "approved by a trusted reviewer only for another scope (staging) "
            "than the policy's oversight.approval_scopes",
        }
