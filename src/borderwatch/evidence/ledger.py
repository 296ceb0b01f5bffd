"""The evidence ledger: one signed, hash-chained record per scan, in `ledger.jsonl`.

Each line of `DIR/ledger.jsonl` is one JSON object (a record, docs/evidence.md) saying
what a scan read and wrote: the tool version, the policy and its hash, every input file
and every output file with its size and SHA-256, the versions of the data behind its
decisions, and the hash of the record before it. `hash` is the hex SHA-256 of the
record's canonical JSON without `hash` and `signature`; `signature` is the Ed25519
signature (base64) of those same bytes, or null for an unsigned ledger.

Appending is crash-safe and serialised: under a lock (`ledger.lock`) the whole new file
(old lines plus the new one) is written beside the ledger, flushed, and renamed over it,
so a scan killed at any moment leaves the old ledger or the old ledger plus one whole
record, never a torn line.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from borderwatch.errors import UsageError
from borderwatch.evidence.signing import ALGORITHM, SigningKey
from borderwatch.model.scan import ScanResult

LEDGER_FILE = "ledger.jsonl"
LOCK_FILE = "ledger.lock"
FORMAT = "borderwatch-ledger/1"
STDIN = "-"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileRef:
    """A file a record names: where it was, what kind of input it is, and what it held."""

    path: str
    kind: str = ""

    def entry(self, ledger_dir: Path) -> dict[str, Any]:
        """The record's entry for the file as it is now: path relative to the ledger
        folder where possible, size and SHA-256 (null with a note when unreadable)."""
        row: dict[str, Any] = {"path": self.path}
        if self.kind:
            row["kind"] = self.kind
        if self.path == STDIN:
            row.update(size=None, sha256=None, note="standard input: cannot be read again")
            return row
        row["path"] = recorded_path(Path(self.path), ledger_dir)
        try:
            row["size"], row["sha256"] = file_digest(Path(self.path))
        except OSError as exc:
            row.update(size=None, sha256=None, note=f"unreadable: {exc.strerror or exc}")
        return row


def refs_under(path: Path, kind: str) -> list[FileRef]:
    """A file, or every regular file below a folder (in name order), as inputs of `kind`."""
    if not path.is_dir():
        return [FileRef(str(path), kind)]
    return [
        FileRef(str(item), kind)
        for item in sorted(path.rglob("*"))
        if item.is_file() and not item.is_symlink()
    ]


def file_digest(path: Path) -> tuple[int, str]:
    """Size and hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def recorded_path(path: Path, ledger_dir: Path) -> str:
    """`path` as a record keeps it: relative to the ledger folder (so a folder tree moved
    as a whole still verifies), or absolute when the two share only the file system root."""
    absolute = os.path.abspath(path)
    base = os.path.abspath(ledger_dir)
    if os.path.commonpath([absolute, base]) == os.path.abspath(os.sep):
        return Path(absolute).as_posix()
    return Path(os.path.relpath(absolute, base)).as_posix()


def resolve_recorded(path: str, ledger_dir: Path) -> Path:
    """Where a recorded path points now (relative ones from the ledger folder)."""
    recorded = Path(path)
    return recorded if recorded.is_absolute() else ledger_dir / recorded


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash and signature cover: JSON with sorted keys, no spaces,
    ASCII only (non-ASCII as \\u escapes)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def body_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without its `hash` and `signature`: what they cover."""
    return {k: v for k, v in record.items() if k not in ("hash", "signature")}


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(body_of(record))).hexdigest()


@dataclass(frozen=True)
class RunFacts:
    """What one scan tells the ledger (from its ScanResult and its request)."""

    tool_version: str
    policy: Mapping[str, str]  # name, version, sha256, source
    scan: Mapping[str, Any]  # started_at, finished_at, verdict, findings, failing
    data_versions: Mapping[str, str]
    inputs: Sequence[FileRef]
    outputs: Sequence[Path]


def run_facts(
    result: ScanResult,
    tool_version: str,
    outputs: Sequence[Path],
    policy_file: str | None = None,
    extra_inputs: Sequence[FileRef] = (),
) -> RunFacts:
    """What the ledger keeps of one scan: from its result, the output files it wrote,
    and the inputs the result does not list (policy file, IP data, digests)."""
    inputs = [FileRef(item.path, item.kind) for item in result.inputs]
    if policy_file:
        inputs.append(FileRef(policy_file, "policy"))
    return RunFacts(
        tool_version=tool_version,
        policy={
            "name": result.policy_name,
            "version": result.policy_version,
            "sha256": result.policy_sha256,
        },
        scan={
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "verdict": result.verdict,
            "findings": len(result.findings),
            "failing": len(result.failing()),
            "fail_on": result.fail_on.value,
        },
        data_versions=result.data_versions,
        inputs=[*inputs, *extra_inputs],
        outputs=outputs,
    )


def prepare(ledger_dir: Path, key: SigningKey | None) -> None:
    """Refuse, before a scan reads anything, a ledger it could not append to (a damaged
    last line, a signed ledger without its key); the append checks again under the lock."""
    path = ledger_dir / LEDGER_FILE
    if ledger_dir.exists() and not ledger_dir.is_dir():
        raise UsageError(f"--ledger {ledger_dir} is a file: give a folder")
    if path.exists():
        check_key(read_head(path.read_bytes(), path), key, path)


def build_record(
    facts: RunFacts, ledger_dir: Path, number: int, previous: str | None, key: SigningKey | None
) -> dict[str, Any]:
    """The record of one run, hashed and (with a key) signed."""
    inputs: dict[str, dict[str, Any]] = {}
    for ref in facts.inputs:
        entry = ref.entry(ledger_dir)
        inputs.setdefault(entry["path"], entry)  # a file given twice is one input
    outputs = [FileRef(str(path)).entry(ledger_dir) for path in facts.outputs]
    body: dict[str, Any] = {
        "format": FORMAT,
        "record": number,
        "previous": previous,
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tool": {"name": "borderwatch", "version": facts.tool_version},
        "policy": dict(facts.policy),
        "scan": dict(facts.scan),
        "root": Path(os.path.abspath(ledger_dir)).as_posix(),
        "inputs": [inputs[path] for path in sorted(inputs)],
        "outputs": sorted(outputs, key=lambda entry: entry["path"]),
        "data_versions": dict(sorted(facts.data_versions.items())),
        "key": None
        if key is None
        else {
            "algorithm": ALGORITHM,
            "public_key": key.public.encoded,
            "fingerprint": key.public.fingerprint,
        },
    }
    data = canonical(body)
    return {
        **body,
        "hash": hashlib.sha256(data).hexdigest(),
        "signature": None if key is None else base64.b64encode(key.sign(data)).decode("ascii"),
    }


def record_line(record: Mapping[str, Any]) -> bytes:
    """One record as its line in the ledger (newline included)."""
    return canonical(record) + b"\n"


@dataclass(frozen=True)
class Head:
    """What appending needs to know of a ledger: its last record and its signing key."""

    records: int
    last_hash: str | None
    fingerprint: str | None  # of the key that signed the latest signed record


def append_run(ledger_dir: Path, facts: RunFacts, key: SigningKey | None) -> dict[str, Any]:
    """Append the record of one run to `ledger_dir/ledger.jsonl` and return it.

    Refuses (UsageError) to chain onto a ledger whose last line is damaged, to add an
    unsigned record to a signed ledger, and to sign with another key than the ledger's.
    """
    ledger_dir.mkdir(parents=True, exist_ok=True)
    path = ledger_dir / LEDGER_FILE
    with _locked(ledger_dir):
        for stale in ledger_dir.glob(f".{LEDGER_FILE}.*.new"):  # of appends killed midway
            stale.unlink(missing_ok=True)
        old = path.read_bytes() if path.exists() else b""
        head = read_head(old, path)
        check_key(head, key, path)
        record = build_record(facts, ledger_dir, head.records + 1, head.last_hash, key)
        _replace(path, old + record_line(record))
    return record


def check_key(head: Head, key: SigningKey | None, path: Path) -> None:
    """A signed ledger stays signed, by the one key that signed it."""
    if head.fingerprint is None:
        return
    if key is None:
        raise UsageError(
            f"the ledger {path} is signed (key {head.fingerprint[:16]}...): give its key "
            "with --sign-key; an unsigned record would end what its signatures prove"
        )
    if key.public.fingerprint != head.fingerprint:
        raise UsageError(
            f"the ledger {path} is signed by key {head.fingerprint[:16]}..., not by the "
            f"--sign-key given ({key.public.fingerprint[:16]}...): sign with the ledger's "
            "key, or start a new ledger folder for a new key"
        )


def read_head(data: bytes, path: Path) -> Head:
    """The number of records, the last one's hash and the ledger's key, from its bytes.

    The last record must be whole and its hash right: a scan never chains onto a line
    it cannot vouch for (`borderwatch verify` says what is wrong with it).
    """
    if not data:
        return Head(0, None, None)
    if not data.endswith(b"\n"):
        raise UsageError(
            f"the ledger {path} ends in an incomplete line: it was cut or edited (a scan "
            "never leaves one); run 'borderwatch verify' on its folder"
        )
    lines = data.splitlines()
    fingerprint: str | None = None
    last: dict[str, Any] = {}
    for number, line in enumerate(lines, start=1):
        try:
            last = json.loads(line)
        except (ValueError, RecursionError):
            raise UsageError(
                f"{path}:{number}: not a JSON record; run 'borderwatch verify' on its folder"
            ) from None
        if not isinstance(last, dict):
            raise UsageError(f"{path}:{number}: not a ledger record")
        key = last.get("key")
        if isinstance(key, dict) and isinstance(key.get("fingerprint"), str):
            fingerprint = key["fingerprint"]
    if last.get("hash") != record_hash(last):
        raise UsageError(
            f"{path}:{len(lines)}: the last record's hash does not match its content; run "
            "'borderwatch verify' on its folder"
        )
    return Head(len(lines), str(last["hash"]), fingerprint)


@contextmanager
def _locked(ledger_dir: Path) -> Iterator[None]:
    """Hold the ledger's lock: concurrent scans append one after the other."""
    handle = os.open(ledger_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _replace(path: Path, data: bytes) -> None:
    """Write `data` beside `path`, flush it, and rename it over `path` (atomic)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.new")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
