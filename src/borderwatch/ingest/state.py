"""Incremental scans: what earlier scans read, kept in the output folder's DuckDB file.

The state file holds the access digest (`access_parts`, ingest/digest.py) and the
coverage counts (`coverage_parts`, ingest/coverage.py) of every input read so far, the
inputs by path, size, modification time and checksum with their accounting, and their
quarantined records. A scan with state reads only inputs it has not seen and adds their
digest; digests merge exactly, so the rules see the same groups as a full rescan and the
findings are equal. The digest depends on which stores hold protected data: when the
inventory or policy changes that, every input is read again. An input that changed since
it was read (other size or checksum, e.g. truncated or rewritten) is reported and not
re-read: its earlier records stay counted once, never twice, until a full rescan
(`--full`) replaces the state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import duckdb
import pyarrow as pa

from borderwatch.errors import UsageError
from borderwatch.ingest.copies import COPY_NOTE, copy_note, sha256_of
from borderwatch.ingest.coverage import COVERAGE_SCHEMA
from borderwatch.ingest.coverage import TABLE as COVERAGE_TABLE
from borderwatch.ingest.digest import DIGEST_SCHEMA, ProtectedKeys
from borderwatch.ingest.expansion import InputFile
from borderwatch.ingest.repeats import SAMPLE_SCHEMA
from borderwatch.ingest.repeats import TABLE as SAMPLE_TABLE
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.scan import InputSummary
from borderwatch.runtime.tablestore import TableStore

STATE_FILE = "state.duckdb"
# Bumped when the stored tables change shape; an older state needs a full rescan.
# 4: coverage counts (a state without them would show every earlier day as a log gap).
# 5: the digest's subject column (Data Security Program counts, ingest/subjects.py).
# 6: every subject an event names (DynamoDB item keys, batches); a version 5 state holds
#    a batch's first subject only and DynamoDB reads as whole-store reads.
STATE_VERSION = "6"

_FILES_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("sha256", pa.string()),
        ("format", pa.string()),
        ("records_read", pa.int64()),
        ("accepted", pa.int64()),
        ("quarantined", pa.int64()),
        ("note", pa.string()),
        ("read_at", pa.string()),
    ]
)
_QUARANTINE_SCHEMA = pa.schema(
    [
        (name, pa.string())
        for name in ("input_key", "input_path", "position", "reason", "excerpt", "format")
    ]
)


class ClosingStore(TableStore, Protocol):
    """A table store that is closed when done with (any engine is one)."""

    def close(self) -> None:
        """Release the store."""


StoreT = TypeVar("StoreT", bound=ClosingStore)


def open_state(path: Path, open_engine: Callable[[Path], StoreT]) -> StoreT:
    """The engine on the state file, opened by `open_engine` (the pipeline's choice of
    engine); a file it cannot open or read is refused with a way out."""
    try:
        engine = open_engine(path)
    except duckdb.Error as exc:
        raise damaged_state(path, exc) from None
    try:
        # Reading every stored table settles now whether the file is whole (DuckDB
        # checks each block it reads), not halfway through the scan.
        stored = engine.query(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        )
        for table in stored.column(0).to_pylist():
            engine.query(f'SELECT bit_xor(hash(t)) AS h FROM "{_quoted(table)}" t')
    except duckdb.Error as exc:
        # Closed now: an open connection would keep the damaged file in use (DuckDB
        # shares one instance per path within a process) after --full removed it.
        engine.close()
        raise damaged_state(path, exc) from None
    return engine


def _quoted(name: str) -> str:
    # A table name read from the file: a damaged or crafted state must not end the quote.
    return name.replace('"', '""')


def damaged_state(path: Path, exc: BaseException) -> UsageError:
    """The refusal of a state file that is damaged (truncated, overwritten) or not one."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return UsageError(
        f"the incremental scan state {path} cannot be read ({reason}): it is damaged or "
        "not a borderwatch state; run the scan with --incremental --full to rebuild it "
        "from the inputs"
    )


@dataclass(frozen=True)
class Fingerprint:
    """What identifies an input's content: size, modification time and SHA-256."""

    size: int
    mtime_ns: int
    sha256: str


def fingerprint(path: Path) -> Fingerprint:
    """Size, modification time and SHA-256 of a file (read in chunks)."""
    stat = path.stat()
    return Fingerprint(stat.st_size, stat.st_mtime_ns, sha256_of(path))


def _unchanged(path: Path, row: dict[str, object]) -> tuple[bool, Fingerprint]:
    """Whether a known input is as it was read, hashing only when size and time disagree.

    A year of logs must not be re-read every day to learn that nothing changed: equal
    size and modification time count as unchanged (as rsync and make assume); a
    different time with the same size is settled by the checksum.
    """
    stat = path.stat()
    if stat.st_size != row["size"]:
        return False, Fingerprint(stat.st_size, stat.st_mtime_ns, "")
    if stat.st_mtime_ns == row["mtime_ns"]:
        return True, Fingerprint(stat.st_size, stat.st_mtime_ns, str(row["sha256"]))
    digest = sha256_of(path)
    return digest == row["sha256"], Fingerprint(stat.st_size, stat.st_mtime_ns, digest)


@dataclass
class Plan:
    """Which inputs to read now, and the accounting of those read before."""

    to_read: list[InputFile]
    fingerprints: dict[str, Fingerprint]
    earlier: list[InputSummary]
    earlier_quarantine: list[QuarantinedRecord]
    changed: list[str]  # human sentences, one per input that changed since it was read
    # New inputs with the bytes of an input read before or of another new one (a moved
    # or copied file): not read, their records are already counted.
    copies: list[tuple[InputFile, InputSummary]] = field(default_factory=list)
    # copy's key -> key of the earlier input whose accounting it carries (the earlier
    # path is not named any more: the file was moved)
    carried: dict[str, str] = field(default_factory=dict)


class ScanState:
    """The state tables inside the scan's DuckDB file."""

    def __init__(self, engine: TableStore) -> None:
        self.engine = engine
        engine.execute("CREATE TABLE IF NOT EXISTS state_meta (key VARCHAR, value VARCHAR)")
        version = engine.query("SELECT value FROM state_meta WHERE key = 'version'")
        if version.num_rows == 0:
            if self._has_table("input_files"):
                raise UsageError("the scan state has no version; rescan with --full")
            engine.execute(f"INSERT INTO state_meta VALUES ('version', '{STATE_VERSION}')")
        elif version.column(0)[0].as_py() != STATE_VERSION:
            raise UsageError(
                f"the scan state was written by another version of borderwatch (state "
                f"version {version.column(0)[0].as_py()}); rescan with --full"
            )
        if not self._has_table("input_files"):
            engine.create_table("input_files", _FILES_SCHEMA.empty_table())
            engine.create_table("state_quarantine", _QUARANTINE_SCHEMA.empty_table())
        if not self._has_table("access_parts"):
            engine.create_table("access_parts", DIGEST_SCHEMA.empty_table())
        # State written before event ids were sampled: repeats are looked for among the
        # inputs read from now on.
        if not self._has_table(SAMPLE_TABLE):
            engine.create_table(SAMPLE_TABLE, SAMPLE_SCHEMA.empty_table())
        if not self._has_table(COVERAGE_TABLE):
            engine.create_table(COVERAGE_TABLE, COVERAGE_SCHEMA.empty_table())

    @classmethod
    @contextmanager
    def transaction(cls, engine: TableStore) -> Iterator[ScanState]:
        """The state, in a transaction committed when the block ends without error.

        Everything a scan changes in the state (digests, inputs read, their quarantine,
        the sample of event ids) is committed at once: a scan stopped or killed before
        the end leaves the state as the previous scan left it, so nothing is counted
        twice or lost.
        """
        engine.execute("BEGIN TRANSACTION")
        try:
            yield cls(engine)
        except BaseException:
            # A connection already gone has committed nothing either.
            with suppress(duckdb.Error):
                engine.execute("ROLLBACK")
            raise
        engine.execute("COMMIT")

    def check_keys(self, keys: ProtectedKeys) -> list[str]:
        """Start afresh when the protected stores differ from those of the stored digest.

        Returns a note when it did: every input is then read again.
        """
        print_ = keys.fingerprint
        stored = self.engine.query("SELECT value FROM state_meta WHERE key = 'protected_keys'")
        if stored.num_rows and stored.column(0)[0].as_py() == print_:
            return []
        notes = []
        if stored.num_rows:
            notes.append(
                "the stores holding protected data changed since the scan state was "
                "written (inventory or policy): every input was read again"
            )
            tables = ("input_files", "state_quarantine", "access_parts", SAMPLE_TABLE)
            for table in (*tables, COVERAGE_TABLE):
                self.engine.execute(f"DELETE FROM {table}")
        self.engine.execute("DELETE FROM state_meta WHERE key = 'protected_keys'")
        self.engine.execute("INSERT INTO state_meta VALUES ('protected_keys', ?)", [print_])
        return notes

    def _has_table(self, name: str) -> bool:
        found = self.engine.query(
            f"SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '{name}'"
        )
        return bool(found.column(0)[0].as_py())

    def plan(self, files: Sequence[InputFile]) -> Plan:
        """Split inputs into new ones (to read) and ones read before (reused or changed)."""
        known = {
            row["path"]: row for row in self.engine.query("SELECT * FROM input_files").to_pylist()
        }
        plan = Plan([], {}, [], [], [])
        named = {_key(item) for item in files}
        # Content already counted, by checksum: a file moved into an archive folder or
        # copied elsewhere has a new path but must not count again.
        read_before = {str(row["sha256"]): row for row in known.values() if row["sha256"]}
        read_now: dict[str, str] = {}
        # Content counted by an input read before and named now: sha256 -> its name. A
        # moved file whose old path is named again (put back, or copied back) holds the
        # same records twice under two known paths; only the first named counts them.
        counted: dict[str, str] = {}
        demoted: set[str] = set()
        for item in files:
            key = _key(item)
            row = known.get(key)
            if row is None:
                print_ = plan.fingerprints[key] = fingerprint(item.path)
                copy = self._copy(item, print_, read_before, read_now, named, plan)
                if copy is not None:
                    plan.copies.append((item, copy))
                    continue
                if print_.size:
                    read_now[print_.sha256] = item.display
                plan.to_read.append(item)
                continue
            same, print_ = _unchanged(item.path, row)
            note = f"read in an earlier scan ({row['read_at']})"
            if str(row["note"]).startswith(COPY_NOTE):
                note = str(row["note"])
            if same and print_.mtime_ns != row["mtime_ns"]:
                # Touched but identical (the checksum said so): remember the new time so
                # later scans do not hash it again.
                self.engine.execute(
                    "UPDATE input_files SET mtime_ns = ? WHERE path = ?", [print_.mtime_ns, key]
                )
            if not same:
                how = (
                    f"truncated from {row['size']:,} to {print_.size:,} bytes"
                    if print_.size < row["size"]
                    else "rewritten (size or checksum differs)"
                )
                note = (
                    f"CHANGED since it was read on {row['read_at']}: {how}; not re-read, its "
                    "earlier records stay counted once; run a full rescan (--full) to use it"
                )
                plan.changed.append(f"{item.display}: {note}")
            digest = str(row["sha256"] or "")
            if same and digest and row["format"] != "copy":
                first = counted.setdefault(digest, item.display)
                if first != item.display:
                    demoted.add(key)
                    note = copy_note(first, digest, str(row["read_at"]))
                    plan.earlier.append(InputSummary(item.display, "events", "copy", 0, 0, 0, note))
                    continue
            plan.earlier.append(
                InputSummary(
                    item.display,
                    "events",
                    row["format"],
                    row["records_read"],
                    row["accepted"],
                    row["quarantined"],
                    note,
                )
            )
        reused = ((named & known.keys()) | set(plan.carried.values())) - demoted
        if reused:
            rows = self.engine.query("SELECT * FROM state_quarantine").to_pylist()
            plan.earlier_quarantine = [
                QuarantinedRecord(
                    r["input_path"], r["position"], r["reason"], r["excerpt"], r["format"]
                )
                for r in rows
                if r["input_key"] in reused
            ]
        return plan

    @staticmethod
    def _copy(
        item: InputFile,
        print_: Fingerprint,
        read_before: dict[str, dict[str, Any]],
        read_now: dict[str, str],
        named: set[str],
        plan: Plan,
    ) -> InputSummary | None:
        """The summary of a new input whose bytes were read already, else None.

        A copy of an input named in this scan too counts nothing itself; a copy of one
        no longer named (the file was moved) carries the accounting it was read with.
        """
        if not print_.size:
            return None
        row = read_before.get(print_.sha256)
        if row is not None:
            path = str(row["path"])
            read_at = str(row["read_at"])
            if path in named or path in plan.carried.values():
                note = copy_note(path, print_.sha256, read_at)
                return InputSummary(item.display, "events", "copy", 0, 0, 0, note)
            plan.carried[_key(item)] = path
            return InputSummary(
                item.display,
                "events",
                str(row["format"]),
                row["records_read"],
                row["accepted"],
                row["quarantined"],
                copy_note(path, print_.sha256, read_at),
            )
        first = read_now.get(print_.sha256)
        if first is None:
            return None
        note = copy_note(first, print_.sha256)
        return InputSummary(item.display, "events", "copy", 0, 0, 0, note)

    def remember(
        self,
        files: Sequence[InputFile],
        summaries: Sequence[InputSummary],
        quarantined: Sequence[QuarantinedRecord],
        fingerprints: dict[str, Fingerprint],
        carried: dict[str, str] | None = None,
    ) -> None:
        """Record inputs just read, with their accounting and quarantined records.

        `carried`: copies (moved inputs) by key -> the earlier input's key, whose
        quarantined records they take over.
        """
        carried = carried or {}
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        by_display = {item.display: item for item in files}
        rows = []
        for summary in summaries:
            item = by_display.get(summary.path)
            if item is None:
                continue
            key = _key(item)
            print_ = fingerprints[key]
            rows.append(
                (
                    key,
                    print_.size,
                    print_.mtime_ns,
                    print_.sha256,
                    summary.format,
                    summary.records_read,
                    summary.accepted,
                    summary.quarantined,
                    summary.note,
                    now,
                )
            )
        if rows:
            self.engine.append(
                "input_files",
                pa.Table.from_pylist(
                    [dict(zip(_FILES_SCHEMA.names, row, strict=True)) for row in rows],
                    schema=_FILES_SCHEMA,
                ),
            )
        for copy_key, earlier_key in carried.items():
            # A moved input's quarantined records follow it to its new path.
            self.engine.execute(
                "INSERT INTO state_quarantine SELECT ?, input_path, position, reason, "
                "excerpt, format FROM state_quarantine WHERE input_key = ?",
                [copy_key, earlier_key],
            )
        mine = [q for q in quarantined if q.input_path in by_display]
        if mine:
            self.engine.append(
                "state_quarantine",
                pa.table(
                    [
                        [_key(by_display[q.input_path]) for q in mine],
                        [q.input_path for q in mine],
                        [q.position for q in mine],
                        [q.reason for q in mine],
                        [q.excerpt for q in mine],
                        [q.source_format for q in mine],
                    ],
                    schema=_QUARANTINE_SCHEMA,
                ),
            )


def _key(item: InputFile) -> str:
    """Inputs are known by their absolute path (stdin has no identity and is never reused)."""
    return str(item.path.resolve())
