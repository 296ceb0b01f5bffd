"""The output folder: one scan at a time, every output swapped in together.

A reader of the folder must never take old outputs for current ones, nor mix two scans:

- While a scan runs (and after one that was killed), the folder holds `SCAN-UNFINISHED`, a
  short text saying a scan started and did not finish: the other files are from an
  earlier scan. A scan that finishes removes it last.
- New outputs are written in full (and flushed to disk) in a hidden folder inside the
  output folder, then moved in. `summary.json` is removed first and moved in last, so
  whenever `summary.json` is there, every other output is of the same scan as it: a
  kill between two moves leaves no summary (and `SCAN-UNFINISHED`), never a summary that
  disagrees with `findings.json`. Ctrl-C and SIGTERM wait until the moves are done.
- Outputs of a format this scan did not write (`--outputs` chose others) are removed
  with the swap, so no file of an earlier scan stands beside this scan's as if current.
- With a ledger (docs/evidence.md) nothing is removed or overwritten: the files the swap
  would replace or remove are moved aside into `superseded/<time>/`, and the ledger
  record naming both is written before any move, with the moves' plan left in the
  staging folder first (runtime/staging.py), so that a killed scan's moves are
  finished by the next scan into the folder (`pending_swaps`, `finish_swap`).
- A lock (`.borderwatch.lock`, held for the whole scan) refuses a second
  scan on the same folder with a message, instead of two scans writing the same state
  and outputs.

Outputs get the permissions the umask allows (as any file a command writes).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from borderwatch.errors import UsageError
from borderwatch.runtime.durable import sync_folder, write_replacing
from borderwatch.runtime.staging import (
    PLAN_FILE,
    STAGING_PREFIX,
    SUPERSEDED_FOLDER,
    SwapPlan,
    plain_name,
    read_plan,
    staging_folders,
)
from borderwatch.runtime.steps import StepStop

LOCK_FILE = ".borderwatch.lock"
# Written by the first ledgered scan into the folder: which ledger names its files.
LEDGER_MARK = ".borderwatch-ledger"
# Not "INCOMPLETE": that is a verdict (coverage not complete), this a scan that stopped.
UNFINISHED_FILE = "SCAN-UNFINISHED"
# Moved in last and removed first: its presence says the other outputs match it.
LAST_OUTPUT = "summary.json"


class OutputFolder:
    """An output folder held by this process (a context manager: lock on enter)."""

    def __init__(self, path: Path, stops: StepStop | None = None) -> None:
        self.path = Path(path)
        self.stops = stops or StepStop()
        self._lock: int | None = None

    def __enter__(self) -> OutputFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = _take_lock(self.path)
        _remove_unfinished(self.path)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing releases the lock
            self._lock = None

    def mark_unfinished(self) -> None:
        """Say in the folder that a scan started and has not finished."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        text = (
            f"A borderwatch scan started at {now} (process {os.getpid()}) and has not "
            "finished: it is running, or it ended before writing its outputs (killed, "
            "interrupted, or it refused an input: see its messages).\n"
            "The other files in this folder are from an earlier scan, if any: they do not "
            "describe the inputs now. Without summary.json they are not a whole set.\n"
            "A scan that finishes removes this file; run the scan again.\n"
        )
        write_replacing(self.path / UNFINISHED_FILE, text.encode())

    def replace_outputs(
        self, outputs: Sequence[tuple[str, bytes]], remove: Sequence[str] = ()
    ) -> list[Path]:
        """Write `outputs` (file name, content) and swap them in together; the files
        named in `remove` (outputs of formats not written this time) go with the swap."""
        for name in remove:
            _check_name(name)
        staged = self.stage(outputs)
        try:
            names = staged.names
            order = sorted(names, key=lambda name: name == LAST_OUTPUT)
            with _signals_held():
                (self.path / LAST_OUTPUT).unlink(missing_ok=True)
                for name in remove:
                    if name not in names:
                        (self.path / name).unlink(missing_ok=True)
                for number, name in enumerate(order):
                    os.replace(staged.folder / name, self.path / name)
                    if number == 0:
                        self.stops.reached("outputs-half-swapped")
                sync_folder(self.path)
                self.stops.reached("outputs-swapped")
                (self.path / UNFINISHED_FILE).unlink(missing_ok=True)
                sync_folder(self.path)
        finally:
            shutil.rmtree(staged.folder, ignore_errors=True)
        return [self.path / name for name in names]

    # A scan with a ledger (docs/evidence.md): stage, plan, record, then swap, so that a
    # kill at any point leaves the old outputs, or the new ones with the record naming
    # them, or the plan saying which moves are left (runtime/staging.py).

    def stage(self, outputs: Sequence[tuple[str, bytes]]) -> Staged:
        """Write `outputs` (file name, content) in full into a new staging folder."""
        for name, _ in outputs:
            _check_name(name)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.path))
        try:
            for name, data in outputs:
                # open() (not mkstemp): the umask decides the permissions.
                with open(staging / name, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            sync_folder(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.stops.reached("outputs-written")
        return Staged(staging, tuple(name for name, _ in outputs))

    def set_aside(self, names: Sequence[str]) -> list[tuple[str, str]]:
        """Where each existing output file among `names` will be moved aside, so that
        the swap overwrites and removes nothing: `superseded/<time>/<name>` (a folder
        new to this scan), summary.json first."""
        present = [name for name in names if _regular_file(self.path / name)]
        if not present:
            return []
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
        tag, number = stamp, 1
        while (self.path / SUPERSEDED_FOLDER / tag).exists():
            number += 1
            tag = f"{stamp}-{number}"
        order = sorted(present, key=lambda name: name != LAST_OUTPUT)
        return [(name, f"{SUPERSEDED_FOLDER}/{tag}/{name}") for name in order]

    def write_plan(self, staged: Staged, plan: SwapPlan) -> None:
        """Leave the swap's plan in the staging folder, flushed to disk (before the
        ledger record that names the outputs is written), and mark the folder as one
        whose files a ledger names (`ledger_of`)."""
        with open(staged.folder / PLAN_FILE, "wb") as handle:
            handle.write(plan.to_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        sync_folder(staged.folder)
        if self.ledger_of() != plan.ledger:
            write_replacing(self.path / LEDGER_MARK, f"{plan.ledger}\n".encode())
            sync_folder(self.path)

    def ledger_of(self) -> str | None:
        """The ledger folder that names this folder's files (relative to this folder),
        if a ledgered scan wrote here: a scan without that ledger must not replace or
        remove them."""
        try:
            text = (self.path / LEDGER_MARK).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return text.strip() or None

    def swap(self, staged: Staged, plan: SwapPlan) -> list[Path]:
        """Move the files the plan sets aside into `superseded/`, then the staged
        outputs in (summary.json last), then remove SCAN-UNFINISHED and the staging
        folder."""
        with _signals_held():
            self._moves(staged.folder, plan, stops=True)
            self.stops.reached("outputs-swapped")
            (self.path / UNFINISHED_FILE).unlink(missing_ok=True)
            sync_folder(self.path)
            shutil.rmtree(staged.folder, ignore_errors=True)
        return [self.path / name for name in plan.outputs]

    def pending_swaps(self) -> list[tuple[Path, SwapPlan]]:
        """Staging folders a killed ledgered scan left with its plan."""
        found = []
        for staging in staging_folders(self.path):
            plan = read_plan(staging)
            if plan is not None:
                found.append((staging, plan))
        return found

    def finish_swap(self, staging: Path, plan: SwapPlan) -> int:
        """Do the moves a killed scan's plan has left (its record is in the ledger);
        how many there were."""
        with _signals_held():
            done = self._moves(staging, plan, stops=False)
            shutil.rmtree(staging, ignore_errors=True)
        return done

    def drop_staging(self, staging: Path) -> None:
        """Remove a staging folder whose record never reached the ledger."""
        shutil.rmtree(staging, ignore_errors=True)

    def _moves(self, staging: Path, plan: SwapPlan, *, stops: bool) -> int:
        """Every move of the plan not done yet (each is skipped once done, so a plan
        half carried out is finished by running it again); how many were left."""
        done = 0
        for name, kept in plan.superseded:
            target = self.path / kept
            if not target.exists() and _regular_file(self.path / name):
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(self.path / name, target)
                done += 1
        if plan.superseded:
            aside = (self.path / plan.superseded[0][1]).parent
            sync_folder(aside)
            sync_folder(aside.parent)
        for number, name in enumerate(plan.outputs):
            if (staging / name).exists():
                os.replace(staging / name, self.path / name)
                done += 1
            if stops and number == 0:
                self.stops.reached("outputs-half-swapped")
        sync_folder(self.path)
        return done


@dataclass(frozen=True)
class Staged:
    """Outputs written in full into a staging folder, not yet moved into place."""

    folder: Path
    names: tuple[str, ...]

    def ordered(self) -> tuple[str, ...]:
        """The names in the order they are moved in: summary.json last."""
        return tuple(sorted(self.names, key=lambda name: name == LAST_OUTPUT))


def _check_name(name: str) -> None:
    if not plain_name(name):
        raise ValueError(f"not a plain output file name: {name!r}")


def _regular_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _take_lock(folder: Path) -> int:
    """Hold the folder's lock, or refuse with who holds it."""
    path = folder / LOCK_FILE
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        # A POSIX record lock, not flock: worker processes forked by the scan inherit
        # its open files, and an flock would outlive a killed scan in its orphans.
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
        os.close(handle)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise UsageError(
            f"another borderwatch scan{who} is using the output folder {folder}: wait for "
            "it to finish, or give another --out"
        ) from None
    except BaseException:
        os.close(handle)
        raise
    os.ftruncate(handle, 0)
    os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
    return handle


def _remove_unfinished(folder: Path) -> None:
    """Remove staging folders of scans killed while writing outputs (we hold the lock,
    so no running scan owns one); those holding a ledgered scan's plan are left for
    the scan to finish or drop (`pending_swaps`), since its record may name them."""
    for staging in staging_folders(folder):
        if read_plan(staging) is None:
            shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (then take effect as usual)."""
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
