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
from pathlib import Path
from types import TracebackType

from borderwatch.errors import UsageError
from borderwatch.runtime.steps import StepStop

LOCK_FILE = ".borderwatch.lock"
# Not "INCOMPLETE": that is a verdict (coverage not complete), this a scan that stopped.
UNFINISHED_FILE = "SCAN-UNFINISHED"
# Moved in last and removed first: its presence says the other outputs match it.
LAST_OUTPUT = "summary.json"
_NEW_PREFIX = ".borderwatch-new-"


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
        _write_replacing(self.path / UNFINISHED_FILE, text.encode())

    def replace_outputs(
        self, outputs: Sequence[tuple[str, bytes]], remove: Sequence[str] = ()
    ) -> list[Path]:
        """Write `outputs` (file name, content) and swap them in together; the files
        named in `remove` (outputs of formats not written this time) go with the swap."""
        for name in [*(name for name, _ in outputs), *remove]:
            if Path(name).name != name or name.startswith("."):
                raise ValueError(f"not a plain output file name: {name!r}")
        staging = Path(tempfile.mkdtemp(prefix=_NEW_PREFIX, dir=self.path))
        try:
            for name, data in outputs:
                # open() (not mkstemp): the umask decides the permissions.
                with open(staging / name, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            _sync_folder(staging)
            self.stops.reached("outputs-written")
            names = [name for name, _ in outputs]
            order = sorted(names, key=lambda name: name == LAST_OUTPUT)
            with _signals_held():
                (self.path / LAST_OUTPUT).unlink(missing_ok=True)
                for name in remove:
                    if name not in names:
                        (self.path / name).unlink(missing_ok=True)
                for number, name in enumerate(order):
                    os.replace(staging / name, self.path / name)
                    if number == 0:
                        self.stops.reached("outputs-half-swapped")
                _sync_folder(self.path)
                self.stops.reached("outputs-swapped")
                (self.path / UNFINISHED_FILE).unlink(missing_ok=True)
                _sync_folder(self.path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return [self.path / name for name in names]


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
    so no running scan owns one)."""
    for entry in os.scandir(folder):
        if entry.name.startswith(_NEW_PREFIX) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def _write_replacing(target: Path, data: bytes) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, target)


def _sync_folder(folder: Path) -> None:
    """Make renames in `folder` durable (a power cut keeps them)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (then take effect as usual)."""
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
