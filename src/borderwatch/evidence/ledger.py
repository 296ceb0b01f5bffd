"""The evidence ledger: one signed, hash-chained record per scan, in `ledger.jsonl`.

Each line of `DIR/ledger.jsonl` is one JSON object (a record, docs/evidence.md) saying
what a scan read and wrote: the tool version, the policy and its hash, every input file
and every output file with its size and SHA-256, the files it moved aside so as not to
overwrite what an earlier record names, the versions of the data behind its decisions,
and the hash of the record before it. `hash` is the hex SHA-256 of the record's
canonical JSON without `hash` and `signature`; `signature` is the Ed25519 signature
(base64) of those same bytes, or null for an unsigned ledger.

Appending is append-only and serialised: under a lock (`ledger.lock`) the end of the
file is read (evidence/ledger_tail.py, whatever the ledger's length), one line is
written in append mode and flushed to disk (and the folder, when the file is new). A
kill midway leaves a torn last line; the next scan refuses it, or with `repair` sets
its bytes aside in a file of the ledger folder that the new record names.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from borderwatch.errors import UsageError
from borderwatch.evidence.ledger_tail import Tail, read_tail, record_at, tail_of, torn_message
from borderwatch.evidence.signing import ALGORITHM, SigningKey
from borderwatch.model.scan import ScanResult
from borderwatch.runtime.durable import sync_folder, write_replacing

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
    # Where the bytes are read from when they are not at `path` yet (an output staged
    # before it is moved into place, or a file about to be moved aside).
    source: str = ""

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
            row["size"], row["sha256"] = file_digest(Path(self.source or self.path))
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
    outputs: Sequence[Path | FileRef]
    # Files moved aside so that no file an earlier record names is overwritten or
    # removed: (where it was, where it is kept). None: the run moved nothing aside and
    # the record says nothing about it (a record without the field, as before).
    superseded: Sequence[tuple[Path, Path]] | None = None


def run_facts(
    result: ScanResult,
    tool_version: str,
    outputs: Sequence[Path | FileRef],
    policy_file: str | None = None,
    extra_inputs: Sequence[FileRef] = (),
    superseded: Sequence[tuple[Path, Path]] | None = None,
) -> RunFacts:
    """What the ledger keeps of one scan: from its result, the output files it wrote
    (or staged, FileRef.source), the files it moved aside, and the inputs the result
    does not list (policy file, IP data, digests)."""
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
        superseded=superseded,
    )


def prepare(ledger_dir: Path, key: SigningKey | None, *, repair: bool = False) -> None:
    """Refuse, before a scan reads anything, a ledger it could not append to (a torn or
    damaged last line, a signed ledger without its key); the append checks again under
    the lock. With `repair`, a torn end is let through: the append sets it aside."""
    path = ledger_dir / LEDGER_FILE
    if ledger_dir.exists() and not ledger_dir.is_dir():
        raise UsageError(f"--ledger {ledger_dir} is a file: give a folder")
    if not path.exists():
        return
    handle = os.open(path, os.O_RDONLY)
    try:
        tail = read_tail(handle)
    finally:
        os.close(handle)
    if tail.torn and not repair:
        raise UsageError(torn_message(path, tail))
    check_key(head_of(tail, path), key, path)


def build_record(
    facts: RunFacts,
    ledger_dir: Path,
    number: int,
    previous: str | None,
    key: SigningKey | None,
    repair: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The record of one run, hashed and (with a key) signed."""
    inputs: dict[str, dict[str, Any]] = {}
    for ref in facts.inputs:
        entry = ref.entry(ledger_dir)
        inputs.setdefault(entry["path"], entry)  # a file given twice is one input
    outputs = [
        (item if isinstance(item, FileRef) else FileRef(str(item))).entry(ledger_dir)
        for item in facts.outputs
    ]
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
    if facts.superseded is not None:
        moved = []
        for was, kept in facts.superseded:
            entry = FileRef(str(kept), source=str(was)).entry(ledger_dir)
            entry["was"] = recorded_path(was, ledger_dir)
            moved.append(entry)
        body["superseded"] = sorted(moved, key=lambda entry: entry["path"])
    if repair is not None:
        body["repair"] = dict(repair)
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
    fingerprint: str | None  # of the key that signed the last record (None: unsigned)


@dataclass(frozen=True)
class Pending:
    """A record about to be written: its number, its hash, and the byte offset of the
    ledger where its line will start (what a caller keeps to find it again)."""

    ledger: Path
    number: int
    hash: str
    offset: int


def append_run(
    ledger_dir: Path,
    facts: RunFacts,
    key: SigningKey | None,
    *,
    repair: bool = False,
    before_write: Callable[[Pending], None] | None = None,
) -> dict[str, Any]:
    """Append the record of one run to `ledger_dir/ledger.jsonl` and return it.

    Refuses (UsageError) to chain onto a ledger whose last line is damaged, to add an
    unsigned record to a signed ledger, and to sign with another key than the ledger's;
    and onto a torn end unless `repair` (then the torn bytes are kept in
    `ledger.torn-OFFSET.bin` and the record's `repair` names them). `before_write` is
    called with the record's place before its line is written (under the lock).
    """
    created = not ledger_dir.exists()
    ledger_dir.mkdir(parents=True, exist_ok=True)
    if created:
        sync_folder(ledger_dir.parent)
    path = ledger_dir / LEDGER_FILE
    with _locked(ledger_dir):
        new_file = not path.exists()
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            tail = read_tail(handle)
            if tail.torn and not repair:
                raise UsageError(torn_message(path, tail))
            head = head_of(tail, path)
            check_key(head, key, path)
            torn = _set_aside(handle, tail, ledger_dir) if tail.torn else None
            record = build_record(facts, ledger_dir, head.records + 1, head.last_hash, key, torn)
            line = record_line(record)
            if before_write is not None:
                before_write(Pending(ledger_dir, record["record"], record["hash"], tail.whole_end))
            if torn is None:
                try:
                    _write_all(handle, line)
                    os.fsync(handle)
                except OSError:
                    # A full disk, a file size limit: take our part-written line back
                    # (the ledger is as it was), then say why.
                    with suppress(OSError):
                        os.ftruncate(handle, tail.whole_end)
                    raise
            else:
                _replace_from(handle, tail.whole_end, line, path)
        finally:
            os.close(handle)
        if new_file:
            sync_folder(ledger_dir)
    return record


def is_committed(ledger_dir: Path, offset: int, record_hash_: str) -> bool:
    """Whether the ledger holds, whole, the record of hash `record_hash_` at `offset`
    (the place `Pending` gave before its line was written)."""
    record = record_at(ledger_dir / LEDGER_FILE, offset)
    return record is not None and record.get("hash") == record_hash_


def check_key(head: Head, key: SigningKey | None, path: Path) -> None:
    """A signed ledger stays signed, by the one key that signed it.

    The last record decides: appending never lets a signed record be followed by an
    unsigned one or one of another key, so the last record's key is the ledger's (a
    ledger edited otherwise is found by `borderwatch verify`).
    """
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
    """The head of a ledger held in memory (`data`: its bytes); UsageError for a torn
    end or a damaged last record, as for a scan appending to it."""
    tail = tail_of(data)
    if tail.torn:
        raise UsageError(torn_message(path, tail))
    return head_of(tail, path)


def head_of(tail: Tail, path: Path) -> Head:
    """The head a new record chains onto. The last record must be whole and its hash
    right: a scan never chains onto a line it cannot vouch for (`borderwatch verify`
    says what is wrong with it)."""
    if tail.last_line is None:
        return Head(0, None, None)
    where = f"{path} (the record at byte {tail.last_start:,})"
    try:
        last = json.loads(tail.last_line)
    except (ValueError, RecursionError):
        raise UsageError(
            f"{where}: not a JSON record; run 'borderwatch verify' on its folder"
        ) from None
    if not isinstance(last, dict):
        raise UsageError(f"{where}: not a ledger record")
    number = last.get("record")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise UsageError(f"{where}: the record has no number; run 'borderwatch verify'")
    if last.get("hash") != record_hash(last):
        raise UsageError(
            f"{where}: the last record's hash does not match its content; run "
            "'borderwatch verify' on its folder"
        )
    key = last.get("key")
    fingerprint = key.get("fingerprint") if isinstance(key, dict) else None
    return Head(number, str(last["hash"]), fingerprint if isinstance(fingerprint, str) else None)


@dataclass(frozen=True)
class LastRecord:
    """The last whole record of a ledger as it stands (not verified), or why there is none."""

    record: dict[str, Any] | None
    number: int  # its `record` field: how many records the ledger holds (0: none read)
    problem: str | None  # a torn end, an empty file, a last line that is not a record


def last_record(path: Path) -> LastRecord:
    """Read the ledger's last record from its end (whatever the ledger's length); never
    raises for what the file holds: a problem says what is wrong."""
    handle = os.open(path, os.O_RDONLY)
    try:
        tail = read_tail(handle)
    finally:
        os.close(handle)
    if tail.torn:
        return LastRecord(None, 0, torn_message(path, tail))
    if tail.last_line is None:
        return LastRecord(None, 0, f"{path}: empty, no record")
    where = f"{path} (the record at byte {tail.last_start:,})"
    try:
        record = json.loads(tail.last_line)
    except (ValueError, RecursionError) as exc:
        return LastRecord(None, 0, f"{where}: not a JSON record ({exc})")
    if not isinstance(record, dict):
        return LastRecord(None, 0, f"{where}: not a ledger record")
    number = record.get("record")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return LastRecord(record, 0, f"{where}: the record has no number")
    return LastRecord(record, number, None)


def torn_file(offset: int) -> str:
    """The name of the file a repair keeps the torn bytes from `offset` in."""
    return f"ledger.torn-{offset}.bin"


def _set_aside(handle: int, tail: Tail, ledger_dir: Path) -> dict[str, Any]:
    """Copy a torn end into its own file of the ledger folder (flushed to disk) before
    it leaves the ledger; what the repairing record says of it."""
    torn = os.pread(handle, tail.torn, tail.whole_end)
    name = torn_file(tail.whole_end)
    write_replacing(ledger_dir / name, torn)
    return {
        "offset": tail.whole_end,
        "size": len(torn),
        "sha256": hashlib.sha256(torn).hexdigest(),
        "kept_as": name,
        "reason": "torn last line (no end of line) set aside by scan --repair-ledger",
    }


def _replace_from(handle: int, offset: int, line: bytes, path: Path) -> None:
    """The ledger's bytes up to `offset` then `line`, swapped in with one rename: a kill
    leaves the torn ledger or the repaired one. (Only a repair rewrites the ledger.)"""
    temp = path.with_name(f".{path.name}.{os.getpid()}.new")
    with open(temp, "wb") as out:
        position = 0
        while position < offset:
            block = os.pread(handle, min(_CHUNK, offset - position), position)
            if not block:
                break
            out.write(block)
            position += len(block)
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
    sync_folder(path.parent)


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        view = view[written:]


@contextmanager
def _locked(ledger_dir: Path) -> Iterator[None]:
    """Hold the ledger's lock: concurrent scans append one after the other."""
    handle = os.open(ledger_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock
