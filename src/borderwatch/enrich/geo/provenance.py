"""File identity for compiled tables: sha256 and the best date the file gives."""

from __future__ import annotations

import hashlib
from pathlib import Path

from borderwatch.enrich.geo.table import Provenance
from borderwatch.errors import InputError, Problem, SourceLocation


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files (name and content, sorted by name)."""
    digest = hashlib.sha256()
    try:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(str(child.relative_to(path)).encode() + b"\0")
                digest.update(hashlib.sha256(child.read_bytes()).digest())
        else:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    except OSError as exc:
        raise unreadable(path, exc) from exc
    return digest.hexdigest()


def unreadable(path: Path, exc: OSError) -> InputError:
    return InputError(
        f"cannot read IP range source {path}",
        [Problem(SourceLocation(str(path)), exc.strerror or str(exc), "check the path")],
    )


def provenance(source: str, path: Path, sha256: str, file_date: str | None) -> Provenance:
    """Provenance by content: the version or date inside the file when it has one, and
    the sha256 of its bytes. The file's modification time is never used: touching a
    file must not change what a finding says about the data behind it."""
    if file_date:
        return Provenance(source, str(path), file_date, "file", sha256)
    return Provenance(source, str(path), "", "content", sha256)
