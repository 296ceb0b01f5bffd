"""Compiled tables on disk: one `.npz` per source file content and compiler version."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from borderwatch.enrich.geo.table import Provenance, RangeTable, Record
from borderwatch.errors import Problem, SourceLocation

# Bump when the compiled layout or a reader's output changes: old entries are then ignored.
COMPILER_VERSION = 2
_ARRAYS = ("v4_start", "v4_end", "v4_record", "v6_record")


def default_cache_dir(cache_dir: Path | str | None = None) -> Path:
    """The given folder, else $BORDERWATCH_CACHE_DIR, else ~/.cache/borderwatch/geo."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("BORDERWATCH_CACHE_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "borderwatch" / "geo"


def cache_path(cache_dir: Path, kind: str, sha256: str, variant: str = "") -> Path:
    suffix = f"-{variant}" if variant else ""
    return cache_dir / f"{kind}-{sha256[:32]}{suffix}-c{COMPILER_VERSION}.npz"


def save(table: RangeTable, path: Path) -> None:
    """Write atomically (temp file, then rename), so an interrupted run leaves no half file."""
    meta = {
        "kind": table.kind,
        "provenance": table.provenance.to_dict(),
        "records": [list(r) for r in table.records],
        "problems": [
            [p.location.path, p.location.line, p.location.column, p.message, p.hint]
            for p in table.problems
        ],
        "alias_6to4": table.alias_6to4,
    }
    arrays = {name: getattr(table, name) for name in _ARRAYS}
    arrays.update(
        v6_start_hi=table.v6_start[0],
        v6_start_lo=table.v6_start[1],
        v6_end_hi=table.v6_end[0],
        v6_end_lo=table.v6_end[1],
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path, source_path: Path) -> RangeTable | None:
    """The cached table, or None when absent or unreadable (then it is compiled again)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            arrays = {name: data[name] for name in _ARRAYS}
            v6_start = (data["v6_start_hi"], data["v6_start_lo"])
            v6_end = (data["v6_end_hi"], data["v6_end_lo"])
    except (OSError, ValueError, KeyError):
        return None
    problems = [
        Problem(SourceLocation(p[0], p[1], p[2]), p[3], p[4]) for p in meta.get("problems", [])
    ]
    return RangeTable(
        kind=meta["kind"],
        # The path may differ from the one that compiled it; the content is the same.
        provenance=Provenance(**{**meta["provenance"], "path": str(source_path)}),
        v4_start=arrays["v4_start"],
        v4_end=arrays["v4_end"],
        v4_record=arrays["v4_record"],
        v6_start=v6_start,
        v6_end=v6_end,
        v6_record=arrays["v6_record"],
        records=[Record(*r) for r in meta["records"]],
        problems=problems,
        alias_6to4=bool(meta.get("alias_6to4")),
        from_cache=True,
    )
