"""CloudTrail log-file integrity checked offline (ingest/cloudtrail_digest.py): digests
this test signs itself with a test RSA key, following AWS's documented format (the
signing string, the chain by previousDigestSignature/previousDigestS3Object, the SHA-256
of each uncompressed log file), over real CloudTrail log files from the shared data.

No digest file is among the shared real data (MANIFEST.md), so the digests here are
made; the log files they vouch for are AWS's own test files.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from borderwatch import api
from borderwatch.cli import main

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
AWS_LIB = REAL / "aws-cloudtrail-processing-library" / "src/test/resources/resources"
REAL_LOGS = [
    AWS_LIB / "SerializerTestFile.json",
    AWS_LIB / "SerializerTestFileCompact.json.gz",
    AWS_LIB / "SerializerVariousUserIdentityTestFile.json",
    AWS_LIB / "SerializerTestFileLocation.json",
    AWS_LIB / "SerializerTestFileNewFieldsInRoot.json",
    AWS_LIB / "SerializerTestFileMissField.json",
]
ACCOUNT, REGION, BUCKET, TRAIL = "111122223333", "us-east-1", "audit-bucket", "org-trail"
CASES = Path(__file__).parent / "cases"


@dataclass(frozen=True)
class Trail:
    """A copy of a CloudTrail bucket: digests, logs, the public keys file."""

    root: Path  # stands for the bucket
    keys: Path  # list-public-keys JSON
    digests: list[Path]  # oldest first
    logs: list[Path]
    signatures: list[str]  # of each digest, hex

    @property
    def newest(self) -> str:
        return self.signatures[-1]


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _der(key: rsa.RSAPrivateKey) -> bytes:
    # The key as list-public-keys gives it: DER, PKCS#1 RSAPublicKey, base64 in the JSON.
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )


def _fingerprint(key: rsa.RSAPrivateKey) -> str:
    return hashlib.md5(_der(key)).hexdigest()  # 32 hex digits, as AWS's fingerprints


def write_public_keys(path: Path, *keys: rsa.RSAPrivateKey, fingerprint: str | None = None) -> Path:
    listed = [
        {
            "Value": base64.b64encode(_der(key)).decode(),
            "ValidityStartTime": "2025-12-01T00:00:00+00:00",
            "ValidityEndTime": "2026-02-01T00:00:00+00:00",
            "Fingerprint": fingerprint or _fingerprint(key),
        }
        for key in keys
    ]
    path.write_text(json.dumps({"PublicKeyList": listed}, indent=4))
    return path


def sign_digest(key: rsa.RSAPrivateKey, fields: dict[str, object], raw: bytes) -> str:
    """CloudTrail's signature as AWS documents it: SHA256withRSA over the four lines
    end time, bucket/key of the digest, hex SHA-256 of the digest file, previous signature."""
    previous = fields["previousDigestSignature"]
    text = (
        f"{fields['digestEndTime']}\n{fields['digestS3Bucket']}/{fields['digestS3Object']}\n"
        f"{hashlib.sha256(raw).hexdigest()}\n{'null' if previous is None else previous}"
    )
    return key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()


def digest_key(hour: int) -> str:
    return (
        f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/01/05/{ACCOUNT}_CloudTrail-Digest_"
        f"{REGION}_{TRAIL}_{REGION}_20260105T{hour:02d}0000Z.json.gz"
    )


def make_trail(
    base: Path, key: rsa.RSAPrivateKey, hours: int = 3, logs: list[Path] | None = None
) -> Trail:
    """`hours` hourly digests, each naming two of the log files (gzipped as delivered)."""
    root = base / BUCKET
    sources = logs or REAL_LOGS
    previous: tuple[str, str] | None = None  # (key, signature)
    digests, written, signatures = [], [], []
    for hour in range(hours):
        entries = []
        for index in (2 * hour, 2 * hour + 1):
            source = sources[index % len(sources)]
            content = source.read_bytes()
            if content[:2] == b"\x1f\x8b":
                content = gzip.decompress(content)
            log_key = (
                f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/01/05/{ACCOUNT}_CloudTrail_"
                f"{REGION}_20260105T{hour:02d}{index:02d}Z_{index:04d}.json.gz"
            )
            path = root / log_key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(content))
            written.append(path)
            entries.append(
                {
                    "s3Bucket": BUCKET,
                    "s3Object": log_key,
                    "hashValue": hashlib.sha256(content).hexdigest(),
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": f"2026-01-05T{hour:02d}:50:00Z",
                    "oldestEventTime": f"2026-01-05T{hour:02d}:01:00Z",
                }
            )
        fields: dict[str, object] = {
            "awsAccountId": ACCOUNT,
            "digestStartTime": f"2026-01-05T{hour:02d}:00:00Z",
            "digestEndTime": f"2026-01-05T{hour + 1:02d}:00:00Z",
            "digestS3Bucket": BUCKET,
            "digestS3Object": digest_key(hour + 1),
            "digestPublicKeyFingerprint": _fingerprint(key),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": f"2026-01-05T{hour:02d}:50:00Z",
            "oldestEventTime": f"2026-01-05T{hour:02d}:01:00Z",
            "previousDigestS3Bucket": BUCKET if previous else None,
            "previousDigestS3Object": previous[0] if previous else None,
            "previousDigestHashValue": None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous[1] if previous else None,
            "logFiles": entries,
        }
        raw = json.dumps(fields).encode()
        signature = sign_digest(key, fields, raw)
        path = root / str(fields["digestS3Object"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(raw))
        digests.append(path)
        signatures.append(signature)
        previous = (str(fields["digestS3Object"]), signature)
    keys = write_public_keys(base / "public-keys.json", key)
    return Trail(base, keys, digests, written, signatures)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return _rsa()


@pytest.fixture
def trail(tmp_path: Path, key: rsa.RSAPrivateKey) -> Trail:
    return make_trail(tmp_path / "copy", key)


def _s3(trail: Trail, path: Path) -> str:
    """The S3 name of a file of the copy (the folder below root stands for the bucket)."""
    return f"s3://{BUCKET}/{path.relative_to(trail.root / BUCKET).as_posix()}"


def _check(trail: Trail, newest: tuple[str, ...] | None = None) -> api.DigestCheck:
    return api.verify_cloudtrail(
        trail.root, trail.keys, (trail.newest,) if newest is None else newest
    )


def test_real_logs_under_signed_digests_verify_clean(trail: Trail) -> None:
    assert all(path.is_file() for path in REAL_LOGS), "shared real data missing"
    check = _check(trail)
    assert check.problems == [] and check.unverified == []
    assert check.status == "verified"
    assert (check.digests, check.verified, check.logs_checked, check.logs_intact) == (3, 3, 6, 6)
    result = CliRunner().invoke(
        main,
        [
            "verify",
            "--cloudtrail-digests",
            str(trail.root),
            "--public-keys",
            str(trail.keys),
            "--newest-signature",
            trail.newest,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output


def test_without_the_newest_signature_the_newest_digest_is_not_verified(trail: Trail) -> None:
    check = _check(trail, newest=())
    assert check.problems == [] and check.verified == 2
    assert check.unverified == [f"s3://{BUCKET}/{digest_key(3)}"]
    result = CliRunner().invoke(
        main, ["verify", "--cloudtrail-digests", str(trail.root), "--public-keys", str(trail.keys)]
    )
    assert result.exit_code == 1 and "INCOMPLETE" in result.output
    assert "--newest-signature" in result.output


def _rewrite_gz(path: Path, change: bytes) -> None:
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[len(content) // 2] ^= change[0]
    path.write_bytes(gzip.compress(bytes(content)))


def test_every_log_file_changed_or_deleted_is_found_and_named(trail: Trail) -> None:
    for log in trail.logs:
        original = log.read_bytes()
        s3 = _s3(trail, log)
        for how in ("content", "compressed", "deleted", "emptied"):
            if how == "content":
                _rewrite_gz(log, b"\x01")  # an event changed, recompressed
            elif how == "compressed":
                damaged = bytearray(original)
                damaged[len(damaged) // 2] ^= 0x10
                log.write_bytes(bytes(damaged))
            elif how == "deleted":
                log.unlink()
            else:
                log.write_bytes(b"")
            check = _check(trail)
            assert check.status == "tampered", (log, how)
            expected = "log-file-missing" if how == "deleted" else "log-file-modified"
            assert [(p.problem, p.log_file) for p in check.problems] == [(expected, s3)], how
            log.write_bytes(original)
    assert _check(trail).status == "verified"


def _fields(path: Path) -> dict[str, object]:
    return json.loads(gzip.decompress(path.read_bytes()))


def test_every_digest_changed_deleted_or_moved_breaks_the_chain(trail: Trail) -> None:
    for index, digest in enumerate(trail.digests):
        original = digest.read_bytes()
        name = f"s3://{BUCKET}/{digest_key(index + 1)}"
        # A log's recorded hash changed to hide an edit: the signature no longer holds.
        fields = _fields(digest)
        fields["logFiles"][0]["hashValue"] = "0" * 64  # type: ignore[index]
        digest.write_bytes(gzip.compress(json.dumps(fields).encode()))
        check = _check(trail)
        kinds = {(p.problem, p.kind, p.digest) for p in check.problems}
        assert ("digest-chain-broken", "signature", name) in kinds, index
        # A byte of the digest file changed (same JSON values, other bytes): still found.
        digest.write_bytes(gzip.compress(gzip.decompress(original) + b" "))
        assert any(p.kind == "signature" and p.digest == name for p in _check(trail).problems)
        # Deleted: the next digest names one that is gone (the newest: its signature, given,
        # matches no digest left).
        digest.unlink()
        check = _check(trail)
        if index == 0:
            # The oldest deleted leaves a shorter whole chain, as a copy that starts later
            # would: said in a note, not provable from the folder (docs/evidence.md).
            assert check.problems == []
            assert any("chain starts" in note for note in check.notes)
        else:
            assert check.status == "tampered", index
        digest.write_bytes(original)
    # Two digests swapped (each file in the other's place): both are away from their place.
    first, second = trail.digests[0], trail.digests[1]
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b), second.write_bytes(a)
    check = _check(trail)
    assert {p.kind for p in check.problems} >= {"location"}
    first.write_bytes(a), second.write_bytes(b)
    assert _check(trail).status == "verified"


def test_a_digest_deleted_midway_is_named_by_the_one_after_it(
    trail: Trail,
) -> None:
    """Deleting the middle digest: the newest names a digest not in the folder."""
    trail.digests[1].unlink()
    check = _check(trail)
    links = [p for p in check.problems if p.kind == "link"]
    assert len(links) == 1
    assert links[0].digest == f"s3://{BUCKET}/{digest_key(3)}"
    assert links[0].expected == f"s3://{BUCKET}/{digest_key(1)}"
    assert links[0].actual == f"s3://{BUCKET}/{digest_key(2)}"


def test_swapped_keys_are_found(trail: Trail, tmp_path: Path, key: rsa.RSAPrivateKey) -> None:
    other = _rsa()
    # Another key listed under the digests' fingerprint: no signature holds.
    swapped = write_public_keys(tmp_path / "swapped.json", other, fingerprint=_fingerprint(key))
    check = api.verify_cloudtrail(trail.root, swapped, (trail.newest,))
    assert {p.kind for p in check.problems} == {"signature"}
    assert len(check.problems) == 3
    # The digests' key not listed at all: each digest names a key the file does not hold.
    unknown = write_public_keys(tmp_path / "unknown.json", other)
    check = api.verify_cloudtrail(trail.root, unknown, (trail.newest,))
    assert {p.kind for p in check.problems} >= {"key"}
    # Digests re-signed by a forger's key: a fingerprint that is not AWS's.
    forged = make_trail(tmp_path / "forged", other)
    check = api.verify_cloudtrail(forged.root, trail.keys, (forged.newest,))
    assert check.status == "tampered"


def test_a_hostile_log_name_is_never_read_outside_the_folder(
    tmp_path: Path, key: rsa.RSAPrivateKey
) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text("{}")
    trail = make_trail(tmp_path / "copy", key, hours=1)
    fields = _fields(trail.digests[0])
    fields["logFiles"][0]["s3Object"] = "../secret.json"  # type: ignore[index]
    raw = json.dumps(fields).encode()
    trail.digests[0].write_bytes(gzip.compress(raw))
    signature = sign_digest(key, fields, raw)
    check = api.verify_cloudtrail(trail.root, trail.keys, (signature,))
    assert [(p.problem, p.kind) for p in check.problems] == [("log-file-missing", "unsafe-name")]
    # A name holding terminal escapes prints as text.
    fields["logFiles"][1]["s3Object"] = "\x1b]8;;https://evil.example\x07x\x1b[2J"  # type: ignore[index]
    raw = json.dumps(fields).encode()
    trail.digests[0].write_bytes(gzip.compress(raw))
    result = CliRunner().invoke(
        main,
        [
            "verify",
            "--cloudtrail-digests",
            str(trail.root),
            "--public-keys",
            str(trail.keys),
            "--newest-signature",
            sign_digest(key, fields, raw),
        ],
    )
    assert result.exit_code == 1 and "log-file-missing" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_unusable_public_keys_are_refused_with_exit_2(trail: Trail, tmp_path: Path) -> None:
    bad = tmp_path / "keys.json"
    for text in (
        "not json",
        '{"Keys": []}',
        '{"PublicKeyList": [{"Fingerprint": "ab", "Value": "!!"}]}',
    ):
        bad.write_text(text)
        result = CliRunner().invoke(
            main, ["verify", "--cloudtrail-digests", str(trail.root), "--public-keys", str(bad)]
        )
        assert result.exit_code == 2, text
        assert "--public-keys" in result.output
    alone = CliRunner().invoke(main, ["verify", "--cloudtrail-digests", str(trail.root)])
    assert alone.exit_code == 2


def test_a_scan_turns_integrity_failures_into_findings_and_coverage(
    tmp_path: Path, key: rsa.RSAPrivateKey
) -> None:
    trail = make_trail(tmp_path / "copy", key)
    _rewrite_gz(trail.logs[1], b"\x01")
    trail.logs[4].unlink()
    case = CASES / "clean"
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--policy",
            str(case / "policy.yaml"),
            "--inventory",
            str(case / "inventory.yaml"),
            "--identities",
            str(case / "identities.yaml"),
            "--events",
            str(case / "events"),
            "--out",
            str(out),
            "--quiet",
            "--cloudtrail-digests",
            str(trail.root),
            "--public-keys",
            str(trail.keys),
            "--newest-signature",
            trail.newest,
            "--ledger",
            str(tmp_path / "ledger"),
        ],
    )
    assert result.exit_code == 1, result.output
    findings = json.loads((out / "findings.json").read_text())
    rules = sorted((f["rule"], f["resource"]) for f in findings)
    assert rules == [
        (
            "integrity.log-file-missing",
            _s3(trail, trail.logs[4]),
        ),
        (
            "integrity.log-file-modified",
            _s3(trail, trail.logs[1]),
        ),
    ]
    summary = json.loads((out / "summary.json").read_text())
    # A log whose integrity failed is not clean coverage: INCOMPLETE, never PASS.
    assert summary["verdict"] == "incomplete"
    modified = next(f for f in findings if f["rule"] == "integrity.log-file-modified")
    assert modified["evidence"]["digest"] == f"s3://{BUCKET}/{digest_key(1)}"
    assert modified["evidence"]["expected"] != modified["evidence"]["actual"]
    assert "changed after delivery" in modified["message"]
    # The ledger keeps the digests and the keys file among the run's inputs.
    record = json.loads((tmp_path / "ledger" / "ledger.jsonl").read_text().splitlines()[-1])
    kinds = [entry["kind"] for entry in record["inputs"]]
    assert kinds.count("cloudtrail-digest") == 3 and "cloudtrail-public-keys" in kinds


def test_digests_of_the_real_data_folder(tmp_path: Path) -> None:
    """The shared real data holds no digest file (MANIFEST.md); the check says so."""
    check = api.verify_cloudtrail(REAL, write_public_keys(tmp_path / "k.json", _rsa()))
    assert check.digests == 0 and check.problems == []
    assert any("no CloudTrail digest file" in note for note in check.notes)
    shutil.rmtree(tmp_path / "k.json", ignore_errors=True)
