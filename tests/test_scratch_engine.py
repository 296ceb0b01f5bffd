"""Large inputs are scanned in a scratch DuckDB file, with the same results, and cleaned up."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from borderwatch import api
from borderwatch.engine import duckdb_engine, pipeline

CASE = Path(__file__).parent / "cases" / "access-jurisdiction"


def run(out: Path) -> list[dict]:
    api.scan(
        policy=CASE / "policy.yaml",
        inventory=[CASE / "inventory.csv"],
        identities=[CASE / "identities.csv"],
        events=[CASE / "events"],
        out=out,
    )
    return json.loads((out / "findings.json").read_text())


def test_scratch_file_engine_gives_the_same_findings_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = run(tmp_path / "memory")
    opened: list[str] = []
    original = duckdb_engine.DuckDBEngine.on_scratch_disk.__func__  # type: ignore[attr-defined]

    def spy(cls: type[duckdb_engine.DuckDBEngine]) -> duckdb_engine.DuckDBEngine:
        engine = original(cls)
        opened.append(str(engine._scratch))
        return engine

    monkeypatch.setattr(duckdb_engine.DuckDBEngine, "on_scratch_disk", classmethod(spy))
    monkeypatch.setattr(pipeline, "BOUNDED_MIN_BYTES", 1)  # every input counts as large
    on_disk = run(tmp_path / "disk")
    assert len(opened) == 1 and opened[0].startswith(tempfile.gettempdir())
    assert not Path(opened[0]).exists()  # removed when the scan closed its engine
    assert [(f["id"], f["count"]) for f in on_disk] == [(f["id"], f["count"]) for f in in_memory]
