"""Ledger folders for the ledger and verify tests: real scans of a golden case, recorded.

A tree holds everything a ledger names, so a copy of the tree verifies like the
original (records keep paths relative to the ledger folder):

    base/inputs/...      the case's policy, inventory, identities and events
    base/out1..outN/     one output folder per run
    base/ledger/         ledger.jsonl (and ledger.lock)
"""

from __future__ import annotations

import shutil
from pathlib import Path

from borderwatch import api

CASE = Path(__file__).parent / "cases" / "clean"
# Not evidence: the lock only serialises appends (docs/evidence.md).
NOT_EVIDENCE = {"ledger.lock"}


def make_keys(folder: Path, name: str = "key.pem") -> tuple[Path, Path]:
    """A new key pair in `folder` (outside any tree the tests tamper with)."""
    folder.mkdir(parents=True, exist_ok=True)
    return api.keygen(folder / name)


def scan_into(base: Path, run: int, key: Path | None, ledger: Path | None = None) -> Path:
    """One real scan of the case's inputs in `base/inputs`, recorded in the ledger."""
    inputs = base / "inputs"
    out = base / f"out{run}"
    api.scan(
        policy=inputs / "policy.yaml",
        inventory=[inputs / "inventory.yaml"],
        identities=[inputs / "identities.yaml"],
        events=[inputs / "events"],
        out=out,
        ledger=ledger or base / "ledger",
        sign_key=key,
    )
    return out


def build_tree(base: Path, key: Path | None, runs: int = 3) -> Path:
    """`runs` scans of the clean case recorded in `base/ledger`; returns the ledger folder."""
    shutil.copytree(
        CASE,
        base / "inputs",
        ignore=shutil.ignore_patterns("expected.json", "findings.snapshot.json", "case.yaml"),
    )
    for run in range(1, runs + 1):
        scan_into(base, run, key)
    return base / "ledger"


def evidence_files(base: Path) -> list[Path]:
    """Every file of the tree a verification vouches for (inputs, outputs, the ledger)."""
    return sorted(
        path
        for path in base.rglob("*")
        if path.is_file() and path.name not in NOT_EVIDENCE and not path.name.startswith(".")
    )
