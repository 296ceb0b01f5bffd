"""Where a finding stands in the scan's input files: a file, a line, and what they are.

Outputs that point at files (SARIF, the CSV's location column, OCSF and JUnit) share
this so that they name the same place for the same finding. Three kinds of place:

- `declaration`: the finding's own evidence says which inventory row it is about
  (`declared_at`, "inventory.csv:12"), e.g. a store outside the approved locations.
- `store-declaration`: the finding is about a store reached in the logs (an access
  finding); its evidence names log events by id, not by file and line (the scan keeps
  digests of events, not their positions), so the place is the inventory row that
  declares the store reached.
- `scan`: neither is known (e.g. a coverage gap, a store no inventory declares); the
  place is the scan's inventory as a whole, with no line.

Paths are given relative to the scan root (the folder the scan ran in,
`ScanResult.scan_root`) where they lie below it, so a report made in a checkout points
at the checkout's files; others stay absolute.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from borderwatch.model.findings import Finding
from borderwatch.model.scan import ScanResult

DECLARATION = "declaration"
STORE_DECLARATION = "store-declaration"
SCAN = "scan"


@dataclass(frozen=True)
class FileLine:
    """A finding's place: `path` as the inputs named it (None: no file), `line` (1-based)."""

    path: str | None
    line: int | None
    kind: str  # DECLARATION, STORE_DECLARATION or SCAN


def split_origin(origin: str) -> tuple[str | None, int | None]:
    """ "inventory.csv:12" -> ("inventory.csv", 12); a text with no line number -> (text, None).

    A '#' marks a logical origin (a Terraform address, "plan.json#aws_s3_bucket.x"), not
    a file, and gives (None, None).
    """
    if not origin or "#" in origin:
        return None, None
    head, _, tail = origin.rpartition(":")
    if head and tail.isdigit() and int(tail) > 0:
        return head, int(tail)
    return origin, None


def store_origins(result: ScanResult) -> dict[str, str]:
    """Each store's declaring inventory row, by store id (stores with one recorded)."""
    return {row.store_id: row.origin for row in result.residency if row.origin}


def first_inventory(result: ScanResult) -> str | None:
    """The first inventory file the scan read (the place of findings with no other)."""
    return next((item.path for item in result.inputs if item.kind == "inventory"), None)


def locate(finding: Finding, origins: Mapping[str, str], fallback: str | None) -> FileLine:
    """The place of one finding (see the module docstring for the three kinds)."""
    declared = (finding.evidence or {}).get("declared_at")
    if isinstance(declared, str):
        path, line = split_origin(declared)
        if path:
            return FileLine(path, line, DECLARATION)
    if finding.resource and finding.resource in origins:
        path, line = split_origin(origins[finding.resource])
        if path:
            return FileLine(path, line, STORE_DECLARATION)
    return FileLine(fallback, None, SCAN)


def relative_path(path: str, root: str) -> str | None:
    """`path` relative to `root` ('/'-separated), or None if it lies outside root.

    A relative path is taken as relative to the root already (the scan ran there).
    """
    pure = PurePosixPath(path)
    if not pure.is_absolute():
        normal = posixpath.normpath(path)
        return None if normal == ".." or normal.startswith("../") else normal
    if not root:
        return None
    try:
        return posixpath.normpath(str(pure.relative_to(PurePosixPath(root))))
    except ValueError:
        return None


def shown_path(path: str, root: str) -> str:
    """The path as an output names it: relative to the root below it, else as given."""
    return relative_path(path, root) or path


def uri_reference(path: str) -> str:
    """A path as a URI reference (percent-encoded; '/' kept)."""
    return quote(path, safe="/")


Locator = Callable[[Finding], FileLine]


def locator(result: ScanResult) -> Locator:
    """`locate` bound to one scan's store origins and inventory."""
    origins = store_origins(result)
    fallback = first_inventory(result)
    return lambda finding: locate(finding, origins, fallback)
