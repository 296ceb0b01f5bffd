"""Find the input files the user named (files, folders, globs) without reading anything
that is not a regular file, twice, in a loop, or borderwatch's own output.

A folder of logs is the folder an attacker or a careless operator can fill: a FIFO
there would block a reader forever and a device would never end; a symbolic link to a
parent folder would repeat the walk forever; an output folder inside the events folder
would be read as input by the next scan. Each such entry is skipped with its reason,
which the scan's accounting lists, never silently. Symbolic links to folders are
followed (delivered logs are often linked in), each folder once.
"""

from __future__ import annotations

import atexit
import fnmatch
import glob
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from borderwatch.errors import UsageError
from borderwatch.sources.names import display_name

# Files that live beside logs in delivered layouts and are never log records.
_IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "_SUCCESS"})
_IGNORED_SUFFIXES = (".md5", ".sha256", ".crc", ".tmp", ".partial")


@dataclass(frozen=True)
class InputFile:
    """One file to read: its real path, and the name shown to people for it."""

    path: Path
    display: str


@dataclass(frozen=True)
class SkippedInput:
    """An entry of an events folder (or glob) that is not read, and why."""

    display: str
    reason: str


@dataclass
class Expansion:
    """What a list of input specs names: files to read, and entries skipped on purpose."""

    files: list[InputFile] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)


def expand(
    specs: Sequence[str | Path],
    *,
    exclude: Sequence[str] = (),
    out: Path | None = None,
    stdin: Callable[[], Path] | None = None,
) -> Expansion:
    """Every regular file named by `specs`, in a stable order, each once, and what was
    skipped.

    A spec is a file, a folder (read recursively, hidden entries skipped, as the
    date-partitioned layouts providers deliver), a glob pattern, or "-" for standard
    input (copied to a file by `stdin`). `exclude` holds glob
    patterns matched against each found file's name and its path below the folder
    named; `out` is the output folder, never read. A spec that matches nothing, a
    folder with no log files in it, or a named file that is not a regular file (a FIFO,
    a device such as /dev/zero) is a usage error: a typo must never look like a clean
    scan, and reading a device would never end.
    """
    walker = _Walker(exclude, _identity_of(out) if out is not None else None)
    for spec in specs:
        if str(spec) == STDIN and stdin is not None:
            walker.found.files.append(InputFile(stdin(), "<stdin>"))
        else:
            walker.spec(str(spec))
    return walker.found


STDIN = "-"


class _Walker:
    def __init__(self, exclude: Sequence[str], out: tuple[int, int] | None) -> None:
        self.exclude = list(exclude)
        self.out = out
        self.found = Expansion()
        self.seen_files: set[tuple[int, int]] = set()
        self.seen_dirs: set[tuple[int, int]] = set()

    def spec(self, spec: str) -> None:
        path = Path(spec)
        try:
            info = path.stat()
        except FileNotFoundError:
            if path.is_symlink():
                raise UsageError(f"input {display_name(spec)}: broken symbolic link") from None
            if glob.has_magic(spec):
                self._glob(spec)
                return
            raise UsageError(
                f"input not found: {display_name(spec)} (no file, directory or glob match)"
            ) from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise UsageError(f"input {display_name(spec)}: cannot read it: {reason}") from None
        if stat.S_ISDIR(info.st_mode):
            if (info.st_dev, info.st_ino) in self.seen_dirs:
                return  # named twice, or inside a folder named before: read once
            before = len(self.found.files)
            skipped_before = len(self.found.skipped)
            self._folder(path, path, info)
            if len(self.found.files) == before:
                raise UsageError(_empty_folder(spec, self.found.skipped[skipped_before:]))
        elif stat.S_ISREG(info.st_mode):
            self._file(path, info)
        else:
            raise UsageError(
                f"input {display_name(spec)} is {_kind_of(info.st_mode)}, not a regular file: "
                "borderwatch reads files, folders and globs (give - to read standard input)"
            )

    def _glob(self, spec: str) -> None:
        matches = sorted(glob.glob(spec, recursive=True))
        if not matches:
            raise UsageError(
                f"input not found: {display_name(spec)} (no file, directory or glob match)"
            )
        for match in matches:
            path = Path(match)
            try:
                info = path.stat()
            except OSError as exc:
                self._skip(path, _unreadable(exc, path.is_symlink()))
                continue
            if stat.S_ISDIR(info.st_mode):
                if (info.st_dev, info.st_ino) not in self.seen_dirs:  # `**` names each level
                    self._folder(path, path, info)
            elif stat.S_ISREG(info.st_mode):
                if not self._excluded(path, path.name):
                    self._file(path, info)
            else:
                self._skip(path, f"{_kind_of(info.st_mode)}, not a regular file (never opened)")

    def _folder(self, root: Path, folder: Path, info: os.stat_result) -> None:
        key = (info.st_dev, info.st_ino)
        if key == self.out:
            self._skip(folder, "the output folder (--out) is never read as input")
            return
        if key in self.seen_dirs:
            self._skip(
                folder,
                "folder already read through another path (a symbolic link loop or a "
                "second link to it)",
            )
            return
        self.seen_dirs.add(key)
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            self._skip(folder, f"cannot read folder: {exc.strerror}")
            return
        for entry in entries:
            self._entry(root, Path(entry.path), entry)

    def _entry(self, root: Path, path: Path, entry: os.DirEntry[str]) -> None:
        name = entry.name
        if name.startswith(".") or name in _IGNORED_NAMES:
            return
        try:
            info = entry.stat()  # follows symbolic links
        except OSError as exc:
            self._skip(path, _unreadable(exc, entry.is_symlink()))
            return
        if stat.S_ISDIR(info.st_mode):
            self._folder(root, path, info)
            return
        if name.endswith(_IGNORED_SUFFIXES):
            return
        if self._excluded(path, path.relative_to(root).as_posix()):
            return
        if stat.S_ISREG(info.st_mode):
            self._file(path, info)
        else:
            self._skip(path, f"{_kind_of(info.st_mode)}, not a regular file (never opened)")

    def _excluded(self, path: Path, relative: str) -> bool:
        for pattern in self.exclude:
            if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(relative, pattern):
                self._skip(path, f"excluded by --exclude {pattern}")
                return True
        return False

    def _file(self, path: Path, info: os.stat_result) -> None:
        key = (info.st_dev, info.st_ino)
        if key not in self.seen_files:
            self.seen_files.add(key)
            self.found.files.append(InputFile(path, display_name(path)))

    def _skip(self, path: Path, reason: str) -> None:
        self.found.skipped.append(SkippedInput(display_name(path), reason))


def _unreadable(exc: OSError, link: bool) -> str:
    why = exc.strerror or str(exc)
    return f"symbolic link that leads nowhere readable ({why})" if link else f"cannot read: {why}"


def _empty_folder(spec: str, skipped: list[SkippedInput]) -> str:
    message = f"no log files in {display_name(spec)}"
    if skipped:
        shown = "; ".join(f"{item.display}: {item.reason}" for item in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        message += f" (skipped {shown}{more})"
    return message


def _identity_of(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None  # not created yet: nothing of it can be among the inputs
    return (info.st_dev, info.st_ino)


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind_of(mode: int) -> str:
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "a special file"


def expand_inputs(
    specs: Sequence[str | Path], *, exclude: Sequence[str] = (), out: Path | None = None
) -> list[InputFile]:
    """Every file named by `specs`, in a stable order, each once (see expand_all)."""
    return expand_all(specs, exclude=exclude, out=out).files


def expand_all(
    specs: Sequence[str | Path], *, exclude: Sequence[str] = (), out: Path | None = None
) -> Expansion:
    """Every file named by `specs` and every entry skipped on purpose (expansion.expand);
    "-" is standard input, spooled to a file. (The readers' limits set in the
    environment are checked when the scan's options are made, before this.)"""
    return expand(specs, exclude=exclude, out=out, stdin=spool_stdin)


def spool_stdin() -> Path:
    """Copy standard input to a temporary file so it is read like any other input.

    Readers need to look at a file's head before choosing how to read it, and a pipe
    cannot be rewound; the spool file is removed when the process exits.
    """
    with tempfile.NamedTemporaryFile(prefix="borderwatch-stdin-", delete=False) as spool:
        while chunk := sys.stdin.buffer.read(1 << 20):
            spool.write(chunk)
    path = Path(spool.name)
    atexit.register(path.unlink, missing_ok=True)
    return path
