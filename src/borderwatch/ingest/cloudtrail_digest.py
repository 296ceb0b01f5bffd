"""CloudTrail log-file integrity, offline: AWS's digest files checked from local copies.

CloudTrail writes, every hour, a digest file naming the log files it delivered with the
SHA-256 of each one's uncompressed content, and signs it (SHA256withRSA, the region's
key, which `aws cloudtrail list-public-keys` lists with its fingerprint). The signature
is the S3 object's `x-amz-meta-signature` metadata, so a copy of the bucket does not
carry it; but every digest names the previous one (previousDigestS3Bucket/Object) and
carries its signature (previousDigestSignature). So the signature of every digest but
the newest is in the folder; the newest's is given with --newest-signature.

The signed string, as AWS documents it, is four lines: the digest end time, the S3 path
of the digest (bucket/key), the hex SHA-256 of the uncompressed digest file, and the
previous digest's hex signature (`null` for the first digest of a trail).

What is checked (docs/evidence.md): each digest's signature under the key its
fingerprint names; that it sits where its digestS3Object says; that each digest names
the one before it in its chain; and each log file's SHA-256. What fails becomes a row of
the `log_integrity` table that the rules in rules/integrity/ select from.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from borderwatch.errors import UsageError

ALGORITHM = "SHA256withRSA"
# <account>_CloudTrail-Digest_<region>_<trail>_<region>_<end time>[_backfill].json[.gz]
_DIGEST_NAME = re.compile(
    r"^(?P<prefix>.+_CloudTrail-Digest_.+)_(?P<end>\d{8}T\d{6}Z)(?P<backfill>_backfill)?"
    r"\.json(?:\.gz)?$"
)
# A digest lists an hour of log files: a few MB at most. More is not a digest.
MAX_DIGEST_BYTES = 64 << 20
_CHUNK = 1 << 20
PROBLEMS = ("log-file-modified", "log-file-missing", "digest-chain-broken")


@dataclass(frozen=True)
class IntegrityProblem:
    """One failed check: a row of the `log_integrity` table."""

    problem: str  # one of PROBLEMS
    kind: str  # what failed: signature, link, location, unreadable, key, hash, ...
    digest: str  # s3://bucket/key of the digest
    log_file: str | None  # s3://bucket/key of the log file (log problems)
    local_path: str
    expected: str | None
    actual: str | None
    detail: str

    def __str__(self) -> str:
        subject = self.log_file or self.digest
        text = f"{self.problem}: {subject} ({self.local_path}): {self.detail}"
        if self.expected is not None or self.actual is not None:
            text += f" (expected {self.expected}, found {self.actual})"
        return text


@dataclass
class DigestCheck:
    """What the check of a digest folder found."""

    folder: Path
    digests: int = 0
    verified: int = 0  # digests whose signature holds
    logs_checked: int = 0
    logs_intact: int = 0
    problems: list[IntegrityProblem] = field(default_factory=list)
    # Digests whose signature could not be checked (not tampering, not verified either).
    unverified: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # the digest files read

    @property
    def status(self) -> str:
        if self.problems:
            return "tampered"
        return "incomplete" if self.unverified else "verified"


@dataclass
class _Digest:
    path: Path
    raw: bytes  # uncompressed
    fields: dict[str, Any]
    name: re.Match[str]

    @property
    def s3(self) -> str:
        return f"s3://{self.fields['digestS3Bucket']}/{self.fields['digestS3Object']}"

    @property
    def chain(self) -> tuple[str, str]:
        return (str(self.fields["digestS3Bucket"]), self.name["prefix"])


def load_public_keys(path: Path) -> dict[str, rsa.RSAPublicKey]:
    """The keys of `aws cloudtrail list-public-keys` output, by fingerprint (UsageError
    naming the file and the entry when it is not that)."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"--public-keys {path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"--public-keys {path}: not JSON ({exc})") from None
    entries = data.get("PublicKeyList") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UsageError(
            f"--public-keys {path}: no PublicKeyList: give what 'aws cloudtrail "
            "list-public-keys --output json' prints"
        )
    keys: dict[str, rsa.RSAPublicKey] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"--public-keys {path}: PublicKeyList entry {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("Fingerprint"), str):
            raise UsageError(f"{where}: no Fingerprint")
        try:
            der = base64.b64decode(str(entry.get("Value")), validate=True)
            key = serialization.load_der_public_key(der)
        except (ValueError, binascii.Error) as exc:
            raise UsageError(f"{where}: Value is not a base64 DER public key ({exc})") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise UsageError(f"{where}: not an RSA key")
        keys[entry["Fingerprint"].lower()] = key
    return keys


def signing_string(fields: dict[str, Any], raw: bytes) -> bytes:
    """The string CloudTrail signs for a digest (AWS's documented format)."""
    previous = fields.get("previousDigestSignature")
    return "\n".join(
        [
            str(fields["digestEndTime"]),
            f"{fields['digestS3Bucket']}/{fields['digestS3Object']}",
            hashlib.sha256(raw).hexdigest(),
            "null" if previous is None else str(previous),
        ]
    ).encode("utf-8")


def check_digests(
    folder: Path, public_keys: Path, newest_signatures: Sequence[str] = ()
) -> DigestCheck:
    """Check every CloudTrail digest below `folder` and the log files they name."""
    if not folder.is_dir():
        raise UsageError(f"--cloudtrail-digests {folder}: not a folder")
    keys = load_public_keys(public_keys)
    check = DigestCheck(folder=folder)
    chains: dict[tuple[str, str], list[_Digest]] = {}
    for path in digest_files(folder):
        check.files.append(path)
        digest = _read_digest(path, folder, check)
        if digest is None:
            continue
        if digest.name["backfill"]:
            check.notes.append(
                f"{digest.s3}: a backfill digest, outside the hourly chain: its log files "
                "are checked, its signature is not (it travels only as S3 metadata)"
            )
            check.unverified.append(digest.s3)
            _check_logs(digest, folder, check)
            continue
        chains.setdefault(digest.chain, []).append(digest)
    check.digests = len(check.files)
    for chain in chains.values():
        chain.sort(key=lambda d: _end_time(d.fields))
        _check_chain(chain, keys, [s.strip().lower() for s in newest_signatures], check)
        for digest in chain:
            _check_logs(digest, folder, check)
    if not check.files:
        check.notes.append(f"no CloudTrail digest file below {folder}")
    return check


def digest_files(folder: Path) -> list[Path]:
    """The CloudTrail digest files below `folder` (by their AWS names), sorted."""
    return sorted(
        path
        for path in folder.rglob("*")
        if _DIGEST_NAME.match(path.name) and path.is_file() and not path.is_symlink()
    )


def _read_digest(path: Path, folder: Path, check: DigestCheck) -> _Digest | None:
    """The digest's uncompressed bytes and fields; a chain-broken problem when unreadable."""
    name = _DIGEST_NAME.match(path.name)
    assert name is not None  # digest_files matched it
    try:
        raw = _uncompressed(path)
        fields = json.loads(raw)
        if not isinstance(fields, dict):
            raise ValueError("not a JSON object")
        for key in ("digestEndTime", "digestS3Bucket", "digestS3Object", "logFiles"):
            if key not in fields:
                raise ValueError(f"no {key}")
        if not isinstance(fields["logFiles"], list):
            raise ValueError("logFiles is not a list")
        _end_time(fields)
    except (OSError, ValueError, EOFError, zlib.error, RecursionError) as exc:
        check.problems.append(
            IntegrityProblem(
                "digest-chain-broken",
                "unreadable",
                f"file://{_shown(path, folder)}",
                None,
                _shown(path, folder),
                None,
                None,
                f"the digest file cannot be read: {exc}",
            )
        )
        return None
    digest = _Digest(path, raw, fields, name)
    relative = path.relative_to(folder).as_posix()
    if not relative.endswith(str(fields["digestS3Object"])) or (
        name["end"] not in str(fields["digestS3Object"])
    ):
        check.problems.append(
            _chain(
                digest,
                folder,
                "location",
                "the digest is not at the place it names: "
                "moved, renamed or replaced by another digest",
                expected=str(fields["digestS3Object"]),
                actual=relative,
            )
        )
    return digest


def _check_chain(
    chain: list[_Digest],
    keys: dict[str, rsa.RSAPublicKey],
    newest_signatures: list[str],
    check: DigestCheck,
) -> None:
    """Walk one trail's digests from the newest back: each names the one before it and
    carries its signature."""
    folder = check.folder
    for index in range(len(chain) - 1, -1, -1):
        digest = chain[index]
        if index == len(chain) - 1:
            _check_newest(digest, keys, newest_signatures, check)
        else:
            later = chain[index + 1].fields
            named = (
                f"s3://{later.get('previousDigestS3Bucket')}/{later.get('previousDigestS3Object')}"
            )
            if named != digest.s3:
                check.problems.append(
                    _chain(
                        chain[index + 1],
                        folder,
                        "link",
                        "the digest does not name the digest before it in the folder: "
                        "digests are missing between them, or were reordered",
                        expected=digest.s3,
                        actual=named,
                    )
                )
                check.unverified.append(digest.s3)
            else:
                _verify_signature(digest, later.get("previousDigestSignature"), keys, check)
    first = chain[0].fields
    if first.get("previousDigestS3Object") is not None:
        check.notes.append(
            f"{chain[0].s3}: the chain starts here; it names an earlier digest not in the "
            f"folder (s3://{first.get('previousDigestS3Bucket')}/"
            f"{first.get('previousDigestS3Object')}): the logs before it are not checked"
        )


def _check_newest(
    digest: _Digest,
    keys: dict[str, rsa.RSAPublicKey],
    newest_signatures: list[str],
    check: DigestCheck,
) -> None:
    """The newest digest's signature is not in the folder: --newest-signature gives it."""
    for signature in newest_signatures:
        if _holds(digest, signature, keys):
            check.verified += 1
            return
    if newest_signatures:
        check.problems.append(
            _chain(
                digest,
                check.folder,
                "signature",
                "no --newest-signature holds for the newest digest: it was modified, or "
                "the signature is of another digest",
            )
        )
        return
    check.unverified.append(digest.s3)
    check.notes.append(
        f"{digest.s3}: the newest digest; its signature is S3 metadata only: give it with "
        "--newest-signature (aws s3api head-object ... --query Metadata.signature)"
    )


def _verify_signature(
    digest: _Digest, signature: object, keys: dict[str, rsa.RSAPublicKey], check: DigestCheck
) -> None:
    fingerprint = str(digest.fields.get("digestPublicKeyFingerprint", "")).lower()
    if digest.fields.get("digestSignatureAlgorithm") != ALGORITHM:
        check.problems.append(
            _chain(
                digest,
                check.folder,
                "algorithm",
                "not signed with " + ALGORITHM,
                expected=ALGORITHM,
                actual=str(digest.fields.get("digestSignatureAlgorithm")),
            )
        )
    elif fingerprint not in keys:
        check.problems.append(
            _chain(
                digest,
                check.folder,
                "key",
                "signed by a key that --public-keys does not list (list the keys of its "
                "time: list-public-keys --start-time)",
                expected="a listed key",
                actual=fingerprint or "no fingerprint",
            )
        )
    elif not isinstance(signature, str) or not _holds(digest, signature, keys):
        check.problems.append(
            _chain(
                digest,
                check.folder,
                "signature",
                "the signature does not hold: the digest was modified",
            )
        )
    else:
        check.verified += 1


def _holds(digest: _Digest, signature: str, keys: dict[str, rsa.RSAPublicKey]) -> bool:
    key = keys.get(str(digest.fields.get("digestPublicKeyFingerprint", "")).lower())
    if key is None or digest.fields.get("digestSignatureAlgorithm") != ALGORITHM:
        return False
    try:
        key.verify(
            bytes.fromhex(signature),
            signing_string(digest.fields, digest.raw),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _check_logs(digest: _Digest, folder: Path, check: DigestCheck) -> None:
    """Each log file the digest names against its SHA-256 (of the uncompressed content)."""
    root = _root_of(digest, folder)
    for entry in digest.fields["logFiles"]:
        if not isinstance(entry, dict):
            check.problems.append(
                _chain(digest, folder, "unreadable", "a logFiles entry is not an object")
            )
            continue
        key = str(entry.get("s3Object", ""))
        s3 = f"s3://{entry.get('s3Bucket')}/{key}"
        local = _inside(root, key)
        expected = str(entry.get("hashValue", "")).lower()
        check.logs_checked += 1
        if local is None:
            check.problems.append(
                IntegrityProblem(
                    "log-file-missing",
                    "unsafe-name",
                    digest.s3,
                    s3,
                    key,
                    f"sha256 {expected}",
                    "not looked for",
                    "the log file's key is not a plain relative path",
                )
            )
            continue
        shown = _shown(local, folder)
        if not local.is_file():
            check.problems.append(
                IntegrityProblem(
                    "log-file-missing",
                    "missing",
                    digest.s3,
                    s3,
                    shown,
                    f"sha256 {expected}",
                    "no such file",
                    "a log file the digest names is not in the folder",
                )
            )
            continue
        try:
            actual = _uncompressed_sha256(local)
        except (OSError, EOFError, zlib.error) as exc:
            actual = f"unreadable ({exc})"
        if actual != expected:
            check.problems.append(
                IntegrityProblem(
                    "log-file-modified",
                    "hash",
                    digest.s3,
                    s3,
                    shown,
                    f"sha256 {expected}",
                    f"sha256 {actual}" if len(actual) == 64 else actual,
                    "the log file's content is not what the digest recorded",
                )
            )
        else:
            check.logs_intact += 1


def _root_of(digest: _Digest, folder: Path) -> Path:
    """The local folder that stands for the bucket: where digestS3Object's path starts."""
    relative = digest.path.relative_to(folder).as_posix()
    key = str(digest.fields["digestS3Object"])
    if relative.endswith(key):
        return folder / relative[: len(relative) - len(key)]
    return folder


def _inside(root: Path, key: str) -> Path | None:
    """`root/key` when the key is a plain relative path (no '..', not absolute)."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or any(part in ("..", ".") for part in parts):
        return None
    return root.joinpath(*parts)


def _uncompressed(path: Path) -> bytes:
    with open(path, "rb") as handle:
        head = handle.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:
        data = handle.read(MAX_DIGEST_BYTES + 1)
    if len(data) > MAX_DIGEST_BYTES:
        raise ValueError(f"more than {MAX_DIGEST_BYTES:,} bytes uncompressed: not a digest")
    return bytes(data)


def _uncompressed_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    digest = hashlib.sha256()
    with opener(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _end_time(fields: dict[str, Any]) -> dt.datetime:
    text = str(fields["digestEndTime"])
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"digestEndTime {text!r} is not a time") from None


def _chain(
    digest: _Digest,
    folder: Path,
    kind: str,
    detail: str,
    expected: str | None = None,
    actual: str | None = None,
) -> IntegrityProblem:
    return IntegrityProblem(
        "digest-chain-broken",
        kind,
        digest.s3,
        None,
        _shown(digest.path, folder),
        expected,
        actual,
        detail,
    )


def _shown(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return os.fspath(path)


def reported(check: DigestCheck) -> tuple[list[str], list[str]]:
    """What a scan says of the check besides its findings: notes, and warnings for what
    could not be verified (never a silent pass)."""
    notes = [
        f"CloudTrail integrity: {check.digests} digest file(s) below {check.folder}, "
        f"{check.verified} with a signature that holds; {check.logs_checked} log file(s) "
        f"named, {check.logs_intact} intact; {len(check.problems)} problem(s) (findings "
        "integrity.*)",
        *check.notes,
    ]
    warnings = [
        f"CloudTrail digest {name}: its signature could not be checked, so the log "
        "files it names are checked against hashes nothing vouches for"
        for name in check.unverified
    ]
    return notes, warnings


def integrity_table(problems: Sequence[IntegrityProblem]) -> pa.Table:
    """The `log_integrity` table the rules in rules/integrity/ select from."""
    columns = (
        "problem",
        "kind",
        "digest",
        "log_file",
        "local_path",
        "expected",
        "actual",
        "detail",
    )
    return pa.table(
        {name: pa.array([getattr(p, name) for p in problems], pa.string()) for name in columns}
    )
