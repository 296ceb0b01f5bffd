"""Offline verification of an evidence ledger folder (`borderwatch verify DIR`).

Checks, with nothing but the folder (and the public key, if given): every line is a
whole record; records are numbered 1, 2, 3, ... in order; each record's hash matches its
content and names the hash of the record before it; every signature is valid (under the
key given with --key, else under the key the ledger names, which proves only that the
records are unchanged since that key signed them); a signed ledger never turns unsigned
and never changes key; and every input and output file a record names still has the
size and SHA-256 recorded. An output a later record moved aside (`superseded`) is
checked where that record says it is kept, and must be the file the earlier record
wrote. A file named again by a later record that moved nothing aside (ledgers written
before files were moved aside, and inputs, which a later scan may read changed) is
checked against the latest record only: the older entries are counted as superseded.

Two states are not tampering and are said as what they are: a **torn** last line (a
scan killed while appending its record; how many bytes, from which offset), and a
**pending** record (its scan was killed after the record was written and before its
outputs were all moved into place: they are checked where its staging folder's plan
says they wait, runtime/staging.py; the next scan into that folder moves them in).

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
from borderwatch.runtime.staging import read_plan, staging_folders


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
    torn: Torn | None = None
    pending: list[str] = field(default_factory=list)  # records whose outputs wait, why
    notes: list[str] = field(default_factory=list)  # what holds but a reader should know

    @property
    def status(self) -> str:
        """`tampered` (a broken link), `torn` (the last line is incomplete, nothing else
        wrong), `pending` (outputs not yet moved into place), `unsigned` (intact but not
        signed), or `verified`."""
        if self.breaks:
            return "tampered"
        if self.torn is not None:
            return "torn"
        if self.pending:
            return "pending"
        return "unsigned" if self.unsigned else "verified"


@dataclass(frozen=True)
class Torn:
    """An incomplete last line: where it starts, how long it is, what precedes it."""

    offset: int
    size: int
    after_record: int  # the number of whole lines before it

    def __str__(self) -> str:
        return (
            f"the last line is a torn record: {self.size:,} byte(s) from offset "
            f"{self.offset:,}, after line {self.after_record}, without an end of line: a scan "
            "killed while appending its record leaves this (a file cut short too); the "
            "lines before it are checked as usual, and a scan refuses to append until "
            "--repair-ledger sets these bytes aside"
        )


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
    if report.records == 0 and report.torn is None:
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
        _torn_or_edited(lines[-1], len(data) - len(lines[-1]), len(whole), report)
    report.records = len(whole)
    return records


def _torn_or_edited(rest: bytes, offset: int, before: int, report: LedgerReport) -> None:
    """An incomplete last line is a torn record when it could be what a killed append
    leaves: the start of a canonical line (printable ASCII; a power cut may leave NUL
    bytes after it) that is not yet a whole JSON value. Anything else was edited."""
    text = rest.rstrip(b"\x00")
    printable = all(0x20 <= byte <= 0x7E for byte in text)
    try:
        json.loads(text)
        whole = True
    except (ValueError, RecursionError):
        whole = False
    if printable and not whole:
        report.torn = Torn(offset, len(rest), before)
        return
    what = (
        "holds a whole record without its end of line: a scan writes the two together"
        if whole
        else "holds bytes a scan never writes"
    )
    report.breaks.append(
        Break(before + 1, f"the last line is incomplete ({len(rest):,} bytes) and {what} (edited)")
    )


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
    """Each file named by a record against its recorded size and hash, where it is now:
    an output a later record moved aside is checked where it is kept; one a later record
    names again without moving it aside, against the latest record only."""
    waiting = _pending_plans(records, folder)
    inputs: dict[Path, tuple[int, dict[str, Any]]] = {}
    staged_by: dict[int, Path] = {}
    # Where each output and kept file should be now: its record, entry, and where a
    # killed scan's plan says it waits instead, if anywhere.
    expected: dict[Path, tuple[int, str, dict[str, Any], Path | None]] = {}
    for line, record in records:
        for role in ("inputs", "outputs"):
            if not isinstance(record.get(role), list):
                report.breaks.append(Break(line, f"the record has no list of {role}"))
        staging = waiting.get(str(record.get("hash")))
        if staging is not None:
            staged_by[line] = staging
        for item, where in _entries(line, record, "inputs", folder, report):
            if where in inputs:
                report.superseded += 1
            inputs[where] = (line, item)
        moved = record.get("superseded")
        if moved is not None and not isinstance(moved, list):
            report.breaks.append(Break(line, "the record's superseded is not a list"))
        for item, kept in _entries(line, record, "superseded", folder, report):
            was = _where(item.get("was"), folder)
            if was is None:
                report.breaks.append(Break(line, "a superseded entry names no earlier place"))
                continue
            _moved_aside(line, item, was, expected.pop(was, None), report)
            expected[kept] = (line, "kept", item, was if staging is not None else None)
        for item, where in _entries(line, record, "outputs", folder, report):
            earlier = expected.get(where)
            if earlier is not None and isinstance(moved, list):
                # This record moves aside every file it replaces: the earlier one was
                # not there to move.
                report.breaks.append(
                    Break(
                        earlier[0],
                        f"missing: gone before record {line} wrote its output in its place",
                        f"output {earlier[2]['path']}",
                        _expected_text(earlier[2]),
                        "no such file then",
                    )
                )
            elif earlier is not None:
                report.superseded += 1
            instead = staging / where.name if staging is not None else None
            expected[where] = (line, "output", item, instead)
        _check_repair(line, record, folder, report)
    for where, (line, item) in inputs.items():
        _check_file(line, "input", item, where, report)
    for where, (line, role, item, instead) in expected.items():
        if instead is not None and _present(instead, prefer=role == "output", primary=where):
            report.pending.append(_pending_text(line, staged_by[line]))
            where = instead
        _check_file(line, role, item, where, report)
    report.pending = sorted(set(report.pending))


def _entries(
    line: int, record: dict[str, Any], role: str, folder: Path, report: LedgerReport
) -> list[tuple[dict[str, Any], Path]]:
    items = record.get(role)
    if not isinstance(items, list):
        return []
    found = []
    for item in items:
        where = _where(item.get("path"), folder) if isinstance(item, dict) else None
        if where is None or not isinstance(item, dict):
            report.breaks.append(Break(line, f"an entry of {role} names no file"))
            continue
        found.append((item, where))
    return found


def _where(path: object, folder: Path) -> Path | None:
    if not isinstance(path, str):
        return None
    return Path(os.path.normpath(resolve_recorded(path, folder)))


def _moved_aside(
    line: int,
    item: dict[str, Any],
    was: Path,
    earlier: tuple[int, str, dict[str, Any], Path | None] | None,
    report: LedgerReport,
) -> None:
    """What record `line` moved aside against what the earlier record wrote there."""
    if earlier is None:
        report.notes.append(
            f"record {line} kept {item.get('was')} (as {item['path']}), which no earlier "
            "record names: written by a scan without this ledger, or by one killed before "
            "its record"
        )
        return
    first, _, entry, _ = earlier
    if (entry.get("sha256"), entry.get("size")) != (item.get("sha256"), item.get("size")):
        report.breaks.append(
            Break(
                first,
                f"content changed before record {line} moved it aside",
                f"output {entry['path']}",
                _expected_text(entry),
                _expected_text(item),
            )
        )


def _check_repair(line: int, record: dict[str, Any], folder: Path, report: LedgerReport) -> None:
    """A record that set a torn end aside names the file that keeps its bytes."""
    repair = record.get("repair")
    if repair is None:
        return
    name = repair.get("kept_as") if isinstance(repair, dict) else None
    if not isinstance(repair, dict) or not isinstance(name, str) or Path(name).name != name:
        report.breaks.append(Break(line, "the record's repair names no file of the ledger"))
        return
    report.notes.append(
        f"record {line} set aside a torn record of {_size(repair.get('size'))} from offset "
        f"{repair.get('offset')} (a scan killed while appending): kept in {name}"
    )
    _check_file(line, "torn bytes", {"path": name, **repair}, folder / name, report)


def _pending_plans(records: list[tuple[int, dict[str, Any]]], folder: Path) -> dict[str, Path]:
    """Record hash -> the staging folder where a killed scan's plan says its outputs
    wait, for the plans found beside the outputs the records name."""
    folders: set[Path] = set()
    for _, record in records:
        items = record.get("outputs")
        for item in items if isinstance(items, list) else []:
            where = _where(item.get("path"), folder) if isinstance(item, dict) else None
            if where is not None:
                folders.add(where.parent)
    found: dict[str, Path] = {}
    for out in sorted(folders):
        for staging in staging_folders(out):
            plan = read_plan(staging)
            if plan is not None:
                found[plan.hash] = staging
    return found


def _present(instead: Path, *, prefer: bool, primary: Path) -> bool:
    """Whether the file is to be checked at `instead`: a staged output is checked there
    while it waits (prefer); a file to be kept aside, where it was until it is moved."""
    if prefer:
        return os.path.lexists(instead)
    return not os.path.lexists(primary) and os.path.lexists(instead)


def _pending_text(line: int, staging: Path) -> str:
    return (
        f"record {line}: its scan was killed after the record was written and before its "
        f"files were all moved into place; they are checked where they wait (the plan in "
        f"{staging}); any scan into {staging.parent} moves them in"
    )


def _expected_text(item: dict[str, Any]) -> str:
    return f"sha256 {item.get('sha256')}, {_size(item.get('size'))}"


def _check_file(
    line: int, role: str, item: dict[str, Any], where: Path, report: LedgerReport
) -> None:
    name = f"{role} {item['path']}"
    expected = item.get("sha256")
    if expected is None:
        report.unchecked.append(f"record {line}: {name}: {item.get('note', 'no hash recorded')}")
        return
    expected_text = _expected_text(item)
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
