"""Offline verification of an evidence ledger folder (`borderwatch verify DIR`).

Checks, with nothing but the folder (and the public key, if given): every line is a
whole record; records are numbered 1, 2, 3, ... in order; each record's hash matches its
content and names the hash of the record before it; every signature is valid (under the
key given with --key, else under the key the ledger names, which proves only that the
records are unchanged since that key signed them); a signed ledger never turns unsigned
and never changes key; and every input and output file a record names still has the
size and SHA-256 recorded. A file named again by a later record is checked against the
latest record only (a later scan rewrote the output or read a changed input): the older
entries are counted as superseded.

Every problem names the record (its line number), the file and what was expected
against what was found.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderwatch.errors import UsageError
from borderwatch.evidence.ledger import (
    FORMAT,
    LEDGER_FILE,
    body_of,
    canonical,
    file_digest,
    record_hash,
    resolve_recorded,
)
from borderwatch.evidence.signing import PublicKey


@dataclass(frozen=True)
class Break:
    """One broken link: which record (line), which file, what was expected and found."""

    record: int | None
    what: str
    file: str | None = None
    expected: str | None = None
    actual: str | None = None

    def __str__(self) -> str:
        where = f"record {self.record}" if self.record is not None else "ledger"
        text = f"{where}: " + (f"{self.file}: " if self.file else "") + self.what
        if self.expected is not None or self.actual is not None:
            text += f" (expected {self.expected}, found {self.actual})"
        return text


@dataclass
class LedgerReport:
    """What verification found: broken links, and what it could and could not check."""

    folder: Path
    records: int = 0
    signed: int = 0
    unsigned: int = 0
    files_checked: int = 0
    superseded: int = 0
    head: str | None = None
    fingerprint: str | None = None
    key_pinned: bool = False
    breaks: list[Break] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """`tampered` (a broken link), `unsigned` (intact but not signed), or `verified`."""
        if self.breaks:
            return "tampered"
        return "unsigned" if self.unsigned else "verified"


def verify_ledger(
    folder: Path, key: PublicKey | None = None, head: str | None = None
) -> LedgerReport:
    """Verify the ledger in `folder` (see the module docstring). UsageError when there is
    no ledger to verify; every problem with one is a Break in the report."""
    path = folder / LEDGER_FILE
    if not path.is_file():
        raise UsageError(f"{folder}: no {LEDGER_FILE} here: give the folder given to --ledger")
    report = LedgerReport(folder=folder, key_pinned=key is not None)
    records = _parse(path, report)
    if report.records == 0:
        report.breaks.append(Break(None, "the ledger holds no record: a scan never writes one"))
    _check_chain(records, key, report)
    if head is not None and report.head != head.lower():
        report.breaks.append(
            Break(
                None,
                "the last record is not the expected head: records were removed from the "
                "end or added",
                expected=head.lower(),
                actual=report.head,
            )
        )
    _check_files(records, folder, report)
    return report


def _parse(path: Path, report: LedgerReport) -> list[tuple[int, dict[str, Any]]]:
    """The ledger's records with their line numbers; a line that is not one is a Break."""
    records: list[tuple[int, dict[str, Any]]] = []
    data = path.read_bytes()
    lines = data.split(b"\n")
    whole = lines[:-1]  # what follows the last newline is not a whole line
    for number, line in enumerate(whole, start=1):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nesting no scan writes
            report.breaks.append(Break(number, "the line is not a JSON record (edited or cut)"))
            continue
        if not isinstance(value, dict):
            report.breaks.append(Break(number, "the line is not a ledger record"))
            continue
        if canonical(value) != line:
            # Same values in other bytes (an escape spelled otherwise, spaces): a scan
            # writes every line in the one canonical form, so this line was edited.
            report.breaks.append(
                Break(number, "the line is not in the form a scan writes (edited)")
            )
        records.append((number, value))
    if lines[-1]:
        report.breaks.append(
            Break(
                len(whole) + 1,
                f"the last line is incomplete ({len(lines[-1]):,} bytes without an end of "
                "line): the ledger was cut or edited; a scan never leaves one",
            )
        )
    report.records = len(whole) + (1 if lines[-1] else 0)
    return records


def _check_chain(
    records: list[tuple[int, dict[str, Any]]], key: PublicKey | None, report: LedgerReport
) -> None:
    previous_hash: str | None = None
    previous_line = 0
    ledger_key: str | None = key.fingerprint if key is not None else None
    seen_signed = False
    for line, record in records:
        if record.get("format") != FORMAT:
            report.breaks.append(
                Break(
                    line,
                    "not a record of this ledger format",
                    expected=FORMAT,
                    actual=str(record.get("format")),
                )
            )
        if record.get("record") != line:
            report.breaks.append(
                Break(
                    line,
                    "the record's number is not its place: records were deleted, inserted "
                    "or reordered",
                    expected=str(line),
                    actual=str(record.get("record")),
                )
            )
        actual_hash = record_hash(record)
        if record.get("hash") != actual_hash:
            report.breaks.append(
                Break(
                    line,
                    "the content does not match the record's hash (edited)",
                    expected=str(record.get("hash")),
                    actual=actual_hash,
                )
            )
        # After a line that is not a record (already a break), there is nothing to compare.
        if previous_line == line - 1 and record.get("previous") != previous_hash:
            report.breaks.append(
                Break(
                    line,
                    "the chain is broken: the record does not name the hash of the record "
                    "before it",
                    expected=previous_hash or "null (the first record)",
                    actual=str(record.get("previous")),
                )
            )
        previous_hash = str(record.get("hash"))
        previous_line = line
        signed = _check_signature(line, record, key, report)
        if signed:
            report.signed += 1
            fingerprint = _fingerprint(record)
            if ledger_key is not None and fingerprint != ledger_key:
                report.breaks.append(
                    Break(
                        line,
                        "signed by another key than "
                        + ("the --key given" if key is not None else "the records before it"),
                        expected=ledger_key,
                        actual=fingerprint,
                    )
                )
            ledger_key = ledger_key or fingerprint
            seen_signed = True
        else:
            report.unsigned += 1
            if seen_signed or key is not None:
                why = "after signed records" if seen_signed else "while --key demands signatures"
                report.breaks.append(Break(line, f"the record is not signed, {why}"))
    report.head = previous_hash if records else None
    report.fingerprint = ledger_key


def _check_signature(
    line: int, record: dict[str, Any], key: PublicKey | None, report: LedgerReport
) -> bool:
    """Whether the record is signed; a Break when its signature does not hold."""
    signature = record.get("signature")
    named = record.get("key")
    if signature is None and named is None:
        return False
    try:
        raw = base64.b64decode(str(signature).encode("ascii"), validate=True)
        checker = key or PublicKey.from_encoded(str((named or {}).get("public_key")))
    except (ValueError, binascii.Error, UnicodeEncodeError, AttributeError):
        report.breaks.append(Break(line, "the signature or the key it names cannot be read"))
        return True
    if not checker.verifies(raw, canonical(body_of(record))):
        whose = "the --key given" if key is not None else "the key the record names"
        report.breaks.append(Break(line, f"the signature does not hold under {whose}"))
    elif key is None and _fingerprint(record) != checker.fingerprint:
        report.breaks.append(Break(line, "the key's fingerprint does not match the key"))
    return True


def _fingerprint(record: dict[str, Any]) -> str | None:
    named = record.get("key")
    value = named.get("fingerprint") if isinstance(named, dict) else None
    return value if isinstance(value, str) else None


def _check_files(
    records: list[tuple[int, dict[str, Any]]], folder: Path, report: LedgerReport
) -> None:
    """Each file named by a record against its recorded size and hash; a file a later
    record names again is checked against the latest record only."""
    latest: dict[tuple[str, Path], int] = {}
    entries: list[tuple[int, str, dict[str, Any], Path]] = []
    for line, record in records:
        for role in ("inputs", "outputs"):
            items = record.get(role)
            if not isinstance(items, list):
                report.breaks.append(Break(line, f"the record has no list of {role}"))
                continue
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                    report.breaks.append(Break(line, f"an entry of {role} names no file"))
                    continue
                where = Path(os.path.normpath(resolve_recorded(item["path"], folder)))
                latest[(role, where)] = line
                entries.append((line, role, item, where))
    for line, role, item, where in entries:
        if latest[(role, where)] != line:
            report.superseded += 1
            continue
        _check_file(line, role[:-1], item, where, report)


def _check_file(
    line: int, role: str, item: dict[str, Any], where: Path, report: LedgerReport
) -> None:
    name = f"{role} {item['path']}"
    expected = item.get("sha256")
    if expected is None:
        report.unchecked.append(f"record {line}: {name}: {item.get('note', 'no hash recorded')}")
        return
    expected_text = f"sha256 {expected}, {_size(item.get('size'))}"
    try:
        info = os.stat(where)
    except FileNotFoundError:
        report.breaks.append(Break(line, "missing", name, expected_text, "no such file"))
        return
    except (OSError, ValueError) as exc:  # ValueError: a NUL in a forged path
        report.breaks.append(Break(line, "cannot be read", name, expected_text, str(exc)))
        return
    if not stat.S_ISREG(info.st_mode):
        report.breaks.append(Break(line, "not a regular file", name, expected_text, "not a file"))
        return
    try:
        size, digest = file_digest(where)
    except OSError as exc:
        report.breaks.append(Break(line, "cannot be read", name, expected_text, str(exc)))
        return
    report.files_checked += 1
    if digest != expected or size != item.get("size"):
        report.breaks.append(
            Break(line, "content changed", name, expected_text, f"sha256 {digest}, {_size(size)}")
        )


def _size(value: object) -> str:
    return f"{value:,} bytes" if isinstance(value, int) else "size unknown"
