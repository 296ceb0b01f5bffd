"""Views every rule builds on: protected stores, residency verdicts, protected accesses.

The SQL lives in `evaluate/sql/*.sql`, one file per view (or per group of macros), so an
auditor reads what runs. They are created once per scan after all tables are loaded, in
the order of `VIEW_FILES` (later ones use earlier ones); rules only read them. They are
temporary: derived afresh by every scan, never written into an incremental scan's state
file (and cheaper to build than tables stored in a database file).
"""

from __future__ import annotations

from importlib.resources import files

# Order matters: later views use earlier ones, and DuckDB binds a view or macro when it
# is created, so each comes after what it reads.
VIEW_FILES: tuple[str, ...] = (
    "protected_store_classes",
    "residency_macros",
    "residency_by_class",
    # Data Security Program subjects come from the pieces, before they may be dropped.
    "dsp_subject_days",
    # access_groups merges the pieces the readers handed over (ingest/digest.py); after
    # it the pipeline may drop the pieces.
    "access_groups",
    "protected_access",
    "access_verdict",
    # Data Security Program counts per counterparty, category and window (docs/dsp.md);
    # between the two the pipeline builds table dsp_windows (evaluate/dsp_windows.py).
    "dsp_reach",
    "dsp_verdicts",
)


def view_statements() -> list[tuple[str, str]]:
    """(name, SQL) of every view file, in the order they are to be run."""
    folder = files("borderwatch.evaluate").joinpath("sql")
    return [(name, folder.joinpath(f"{name}.sql").read_text("utf-8")) for name in VIEW_FILES]
