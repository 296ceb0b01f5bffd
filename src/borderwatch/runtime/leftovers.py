"""What a killed scan could leave behind: temporary folders and worker processes.

Temporary folders (DuckDB's spill, the workers' digests): a process killed with SIGKILL
(or by the OOM killer) cannot remove them. Each folder's name therefore carries the id
of the process that made it (`borderwatch-<kind>-<pid>-<random>`), and every scan first
removes the folders of processes that no longer run. A folder is removed only when all
of these hold: it is directly under the temporary root, its name has that exact
pattern, it is a real folder (not a symbolic link), it belongs to the user running the
scan, and no process with its pid exists. A pid reused by a live process keeps its folder until that
process ends: removing too little is safe, removing another scan's folder is not.

Worker processes: they are told to die with the scan (end_with_parent).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import sys
import tempfile
from pathlib import Path

# The kinds of temporary folder a scan makes; only these are ever cleaned up.
KINDS = ("spill", "digests")
_NAME = re.compile(r"^borderwatch-(?P<kind>[a-z]+)-(?P<pid>[0-9]+)-[A-Za-z0-9_]+$")


def make_temp_dir(kind: str, root: str | None = None) -> str:
    """A new private folder for `kind` under `root` (default: the system's temp root),
    named so that a later scan can tell whether its maker still runs."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of temporary folder: {kind!r}")
    return tempfile.mkdtemp(prefix=f"borderwatch-{kind}-{os.getpid()}-", dir=root)


def remove_stale_temp_dirs(root: str | None = None) -> list[Path]:
    """Remove the temporary folders left by scans that were killed; returns them."""
    folder = Path(root or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or match["kind"] not in KINDS:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        if _running(int(match["pid"])):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether a process with this id exists (ours or another user's)."""
    if pid <= 0:
        return True  # not a pid a scan can have: leave the folder alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def end_with_parent(parent: int) -> None:
    """Make this (worker) process die when its parent `parent` does: a scan killed with
    SIGKILL must not leave its workers waiting for tasks forever (Linux only)."""
    import ctypes

    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
