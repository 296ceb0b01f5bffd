"""Large inputs are scanned within a memory limit, with the same results, cleaned up."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from borderwatch import api
from borderwatch.evaluate import duckdb_engine
from borderwatch.pipeline import ScanContext
from borderwatch.runtime.options import ScanOptions

CASE = Path(__file__).parent / "cases" / "access-jurisdiction"


def run(
    out: Path, options: ScanOptions | None = None, context: ScanContext | None = None
) -> list[dict]:
    api.scan(
        policy=CASE / "policy.yaml",
        inventory=[CASE / "inventory.csv"],
        identities=[CASE / "identities.csv"],
        events=[CASE / "events"],
        out=out,
        options=options,
        context=context,
    )
    return json.loads((out / "findings.json").read_text())


def test_bounded_engine_gives_the_same_findings_and_leaves_nothing(tmp_path: Path) -> None:
    in_memory = run(tmp_path / "memory")
    seen: list[tuple[str, str]] = []

    class Watched(duckdb_engine.DuckDBEngine):
        """DuckDB, saying which memory limit and spill folder it was given."""

        def bound_memory(self, limit: str) -> None:
            super().bound_memory(limit)
            setting = self.query("SELECT current_setting('memory_limit') AS m").column(0)
            seen.append((str(self._spill), setting[0].as_py()))

    context = api.new_context()
    context.registry.engines.add("watched", Watched)
    # Every input counts as large.
    options = ScanOptions(engine="watched", bounded_min_bytes=1, memory_limit="300MB")
    bounded = run(tmp_path / "bounded", options, context)
    ((spill, limit),) = seen
    assert spill.startswith(tempfile.gettempdir()) and limit == "286.1 MiB"
    assert not Path(spill).exists()  # removed when the scan closed its engine
    assert [(f["id"], f["count"]) for f in bounded] == [(f["id"], f["count"]) for f in in_memory]


def test_tables_larger_than_the_limit_spill_instead_of_failing() -> None:
    """The engine is in memory: this holds only because DuckDB evicts table blocks."""
    engine = duckdb_engine.DuckDBEngine()
    try:
        engine.bound_memory("40MB")
        engine.execute("CREATE TABLE big (a VARCHAR)")
        for _ in range(4):  # about 120 MB of incompressible text in all
            engine.execute(
                "INSERT INTO big SELECT md5(random()::VARCHAR) || md5(random()::VARCHAR) "
                "FROM range(500000)"
            )
        counted = engine.query("SELECT count(DISTINCT a) AS n FROM big").column(0)[0].as_py()
        assert counted == 2_000_000
        assert any(Path(str(engine._spill)).iterdir())  # blocks went to the spill folder
    finally:
        engine.close()
